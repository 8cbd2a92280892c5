"""Issue 15 part 3: phantom rows, 13-row templates, pulse-width speed votes, the label reader's early stop and the
confidence's caps (touching rows, image quality)."""

from __future__ import annotations

import numpy as np

from digitize.calibrate import Calibration, speed_from_pulses
from digitize.confidence import cap_by_quality, lead_confidences, touching_share
from digitize.evidence import phantom_rows
from digitize.labels import _template_confirmed
from digitize.layout import TEMPLATES, Layout, _choose_template, template_panels
from digitize.trace import RowTrace

CAL = Calibration(4.0, 4.0, 25.0, 10.0, "grid", 0.9, 10.0)


def _row(y0: float, *, beats: bool = True, wander_mm: float = 0.0) -> RowTrace:
    """A 10 s row at height ``y0``: 1 mV spikes every second (or a flat line), optionally wandering up and down."""
    x = np.arange(0.0, 10 * CAL.px_per_s)
    t = x / CAL.px_per_s
    y = np.full_like(x, y0) + wander_mm * CAL.px_per_mm_y * np.sin(2 * np.pi * 0.3 * t) * np.sqrt(2)
    if beats:
        y = y - sum(40.0 * np.exp(-(((t - c) / 0.02) ** 2)) for c in np.arange(0.5, 10, 1.0))
    return RowTrace(x, y, np.ones(x.size, bool), np.ones(x.size))


def test_flat_border_lines_at_the_top_and_bottom_are_phantom_rows() -> None:
    prob = np.zeros((1000, 1000), np.float32)
    baselines = [20.0, 300.0, 450.0, 600.0, 750.0, 980.0]
    traces = [_row(baselines[0], beats=False)] + [_row(y) for y in baselines[1:5]] + [_row(980.0, beats=False)]
    dropped = phantom_rows(prob, traces, CAL, baselines)
    assert sorted(row for row, _ in dropped) == [0, 5]
    assert all("0 deflections" in why for _, why in dropped)


def test_a_flat_row_inside_the_stack_is_kept_and_three_rows_always_remain() -> None:
    prob = np.zeros((1000, 1000), np.float32)
    baselines = [300.0, 450.0, 600.0, 750.0]
    traces = [_row(300.0), _row(450.0, beats=False), _row(600.0), _row(750.0)]
    assert phantom_rows(prob, traces, CAL, baselines) == []  # a flat lead is still a lead
    flat = [_row(y, beats=False) for y in baselines]
    assert len(phantom_rows(prob, flat, CAL, baselines)) == 1  # peeled to 3 rows at most


def test_a_wandering_row_counts_as_phantom_only_at_the_page_edge() -> None:
    prob = np.zeros((1000, 1000), np.float32)
    inner = [300.0, 450.0, 600.0, 750.0]
    wandering = [_row(y) for y in inner[:3]] + [_row(750.0, wander_mm=12.0)]
    assert phantom_rows(prob, wandering, CAL, inner) == []  # a messy scan's real row may jump (kit-dev d022)
    at_edge = [300.0, 450.0, 600.0, 985.0]
    assert [row for row, _ in phantom_rows(prob, wandering, CAL, at_edge)] == [3]


def test_a_weak_row_inside_thirteen_is_kept_and_only_an_outer_one_may_be_text() -> None:
    strength = np.full(13, 0.9)
    strength[6] = 0.55  # a V-lead with tall complexes, inside the stack
    template, keep = _choose_template(strength)
    assert template == "12x1+1" and keep.size == 13
    strength = np.full(13, 0.9)
    strength[0] = 0.2  # a text line above the rows
    template, keep = _choose_template(strength)
    assert template == "12x1" and 0 not in keep


def test_paper_speed_needs_more_wide_pulses_than_standard_ones() -> None:
    assert speed_from_pulses([5.0, 5.0, 10.5, 10.9])[0] == 25.0  # labels fused to two pulses: a tie keeps 25
    assert speed_from_pulses([10.0, 10.1, 9.9, 5.0])[0] == 50.0


def test_touching_rows_lower_the_confidence_with_a_reason() -> None:
    panels = template_panels(TEMPLATES["3x4"], 0.0, 10.0, CAL.px_per_s)
    layout = Layout("3x4", (100.0, 200.0, 300.0), 100.0, 0.0, 10 * CAL.px_per_s, 10.0, panels, (None,) * 3, ())
    apart = [_row(100.0), _row(200.0), _row(300.0)]
    assert touching_share(apart, 1, 0.0, 400.0, 4.0) == 0.0
    merged = [_row(100.0), _row(100.5), _row(300.0)]  # row 2's path runs on row 1's trace
    assert touching_share(merged, 1, 0.0, 400.0, 4.0) > 0.9
    clean, _ = lead_confidences(apart, layout, CAL)
    confidence, reasons = lead_confidences(merged, layout, CAL)
    assert confidence["II"] < 0.5 <= clean["II"]
    assert any("neighbouring row" in why for why in reasons["II"])
    assert confidence["I"] < 0.5  # both rows of the touching pair lose their claim
    assert confidence["III"] == clean["III"] >= 0.5  # row 3 touches nothing


def test_lead_confidence_is_capped_by_the_image_quality() -> None:
    capped, why = cap_by_quality({"I": 0.95, "II": 0.3}, {"I": (), "II": ()}, 0.4)
    assert capped["I"] <= 0.45 and capped["II"] == 0.3
    assert why["I"] and not why["II"]


def test_label_reading_stops_only_when_every_column_agrees_with_the_template() -> None:
    panels = template_panels(TEMPLATES["3x4+1"], 0.0, 10.0, CAL.px_per_s)
    layout = Layout("3x4+1", (100.0, 200.0, 300.0, 400.0), 100.0, 0.0, 1000.0, 10.0, panels, (None,) * 4, ())
    columns = {round(p.t_start_s, 1) for p in layout.panels}
    index = {p.lead: i for i, p in reversed(list(enumerate(layout.panels)))}
    reads = {index["I"]: ("I", 0.95), index["II"]: ("II", 0.95), index["aVR"]: ("aVR", 0.9), index["V1"]: ("V1", 0.9)}
    assert not _template_confirmed(reads, layout, columns)  # the fourth column (V4) is unread
    reads[index["V4"]] = ("V4", 0.9)
    assert _template_confirmed(reads, layout, columns)
    reads[index["III"]] = ("aVL", 0.6)  # any label against the template: read everything
    assert not _template_confirmed(reads, layout, columns)
