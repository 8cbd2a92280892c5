"""Issue 15 part 4: a lead printed twice must draw the same signal, and one tall pulse does not set the gain."""

from __future__ import annotations

import numpy as np
import pytest

from digitize.calibrate import Calibration, gain_from_pulses
from digitize.confidence import lead_confidences
from digitize.consistency import repeat_checks
from digitize.layout import TEMPLATES, Layout, template_panels
from digitize.trace import RowTrace

CAL = Calibration(4.0, 4.0, 25.0, 10.0, "grid", 0.9, 10.0)


def _row(y0: float, beats_at: np.ndarray, *, height_px: float = 40.0) -> RowTrace:
    """A 10 s row at height ``y0`` with a spike (``height_px`` tall, up) at each time in ``beats_at`` (s)."""
    x = np.arange(0.0, 10 * CAL.px_per_s)
    t = x / CAL.px_per_s
    y = np.full_like(x, y0) - sum(height_px * np.exp(-(((t - c) / 0.03) ** 2)) for c in beats_at)
    return RowTrace(x, y, np.ones(x.size, bool), np.ones(x.size))


def _layout() -> Layout:
    panels = template_panels(TEMPLATES["3x4+1"], 0.0, 10.0, CAL.px_per_s)
    baselines = (100.0, 200.0, 300.0, 400.0)
    return Layout("3x4+1", baselines, 100.0, 0.0, 10 * CAL.px_per_s, 10.0, panels, (None,) * 4, ())


def test_a_rhythm_strip_that_repeats_its_panel_keeps_its_claim() -> None:
    beats = np.arange(0.4, 10, 0.8)
    traces = [_row(100.0 * (i + 1), beats) for i in range(4)]
    layout = _layout()
    checks = repeat_checks(traces, layout, CAL, 500.0)
    strip = next(p for p in layout.panels if p.row == 3)
    assert set(checks) == {strip.lead}
    assert checks[strip.lead].residual < 0.1 and checks[strip.lead].r > 0.95
    confidence, reasons = lead_confidences(traces, layout, CAL, repeats=checks)
    assert confidence[strip.lead] >= 0.5
    assert not any("printed twice" in why for why in reasons[strip.lead])


def test_a_rhythm_strip_that_disagrees_with_its_panel_loses_its_claim() -> None:
    beats = np.arange(0.4, 10, 0.8)
    traces = [_row(100.0 * (i + 1), beats) for i in range(3)]
    traces.append(_row(400.0, beats + 0.37, height_px=-60.0))  # other beats, other shape: not the same signal
    layout = _layout()
    checks = repeat_checks(traces, layout, CAL, 500.0)
    strip = next(p for p in layout.panels if p.row == 3)
    assert checks[strip.lead].residual > 0.9
    confidence, reasons = lead_confidences(traces, layout, CAL, repeats=checks)
    assert confidence[strip.lead] < 0.5
    assert any("printed twice" in why for why in reasons[strip.lead])
    others, _ = lead_confidences(traces, layout, CAL, repeats=checks)
    assert others["V1"] >= 0.5  # leads printed once are not touched


def test_one_tall_pulse_among_standard_ones_does_not_set_the_gain() -> None:
    gain, note = gain_from_pulses([26.8, 21.6, 9.9])  # a pulse fused with its label beside a 10 mm one
    assert gain == 10.0 and "disagree" in note
    assert gain_from_pulses([20.2, 19.8, 10.1])[0] == 20.0
    assert gain_from_pulses([20.0])[0] == 20.0  # a lone pulse still sets it
    assert gain_from_pulses([5.1, 4.9, 5.0])[0] == 5.0


def test_a_grid_that_is_not_square_lowers_the_quality_with_a_note() -> None:
    from digitize.confidence import image_quality
    from digitize.orient import Orientation

    beats = np.arange(0.4, 10, 0.8)
    layout = _layout()
    traces = [_row(100.0 * (i + 1), beats) for i in range(4)]
    orientation = Orientation(0, True, "upright")
    square = Calibration(7.87, 7.87, 25.0, 10.0, "grid", 0.9, 10.0)
    skewed = Calibration(7.66, 7.48, 25.0, 10.0, "grid", 0.9, 10.0)  # 2.4 %: two grids read as one
    confidence, _ = lead_confidences(traces, layout, square)
    q_square, notes_square = image_quality(confidence, square, layout, "grid-lines", 0.0, orientation)
    q_skewed, notes_skewed = image_quality(confidence, skewed, layout, "grid-lines", 0.0, orientation)
    assert q_skewed == pytest.approx(0.65 * q_square, abs=0.01)
    assert any("not square" in n for n in notes_skewed) and not any("not square" in n for n in notes_square)


def test_a_strip_running_on_the_row_above_is_not_matched_to_that_row() -> None:
    from digitize.assign import rhythm_lead

    beats = np.arange(0.4, 10, 0.8)
    layout = _layout()
    traces = [_row(100.0 * (i + 1), beats + 0.1 * i) for i in range(3)]  # rows unlike each other
    grid = [p for p in layout.panels if p.row < 3]
    last = next(p for p in grid if p.row == 2 and p.t_start_s > 7)  # the panel just above the strip, at the end
    strip_y = np.where((traces[2].x >= last.x_start) & (traces[2].x < last.x_end), traces[2].y, 400.0)
    strip = RowTrace(traces[2].x, strip_y, traces[2].on_ink, traces[2].strength)  # follows row 3's ink there
    assert rhythm_lead(strip, traces, grid)[0] == last.lead  # without the same-ink rule: a perfect "match"
    lead, _ = rhythm_lead(strip, traces, grid, same_ink_px=4.0)
    assert lead != last.lead


def test_a_strip_label_naming_a_lead_the_strip_does_not_repeat_is_not_taken() -> None:
    from digitize.identity import _override

    beats = np.arange(0.4, 10, 0.8)
    layout = _layout()
    traces = [_row(100.0 * (i + 1), beats + 0.1 * i, height_px=40.0 - 25.0 * i) for i in range(3)]
    traces.append(_row(400.0, beats, height_px=40.0))  # repeats row 1's signal (lead I in its first panel)
    strip_index = next(i for i, p in enumerate(layout.panels) if p.row == 3)
    notes: list[str] = []
    kept = _override(layout, {strip_index: ("III", 0.95)}, notes, traces, 4.0)
    assert kept.panels[strip_index].lead == layout.panels[strip_index].lead
    assert any("does not repeat" in n for n in notes)
    taken = _override(layout, {strip_index: ("I", 0.95)}, [], traces, 4.0)
    assert taken.panels[strip_index].lead == "I"


def test_neighbouring_chest_leads_fit_and_an_unlike_one_does_not() -> None:
    from digitize.consistency import precordial_fit

    t = np.arange(0, 2.5, 1 / 500.0)
    qrs = np.exp(-((((t % 0.8) - 0.4) / 0.02) ** 2))
    signals = {f"V{k}": (k - 3.5) * 0.3 * qrs for k in range(1, 7)}  # R grows from V1 to V6, sign turns at V3/V4
    signals["V5"] = 0.5 * np.sin(2 * np.pi * 3.1 * t)  # V5 unlike V4 and V6
    fits = precordial_fit(signals, 500.0)
    assert fits["V2"] > 0.99 and fits["V6"] < 0.4 and fits["V5"] < 0.4
    assert "V1" in fits and precordial_fit({"V1": signals["V1"]}, 500.0) == {}


def test_a_chest_lead_crossing_its_neighbour_and_unlike_its_neighbours_loses_its_claim() -> None:
    from digitize.consistency import crossing_share

    beats = np.arange(0.4, 10, 0.8)
    layout = _layout()
    traces = [_row(100.0 * (i + 1), beats) for i in range(4)]
    assert crossing_share(traces, 0, 0.0, 1000.0) == 0.0
    tall = [_row(100.0, beats, height_px=-140.0), *traces[1:]]  # row 1's strokes reach below row 2's path
    assert crossing_share(tall, 0, 0.0, 1000.0) > 0.0
    v1 = next(p.lead for p in layout.panels if p.row == 0 and p.lead.startswith("V"))
    plain, _ = lead_confidences(tall, layout, CAL, precordial={v1: 0.9})
    crossed, reasons = lead_confidences(tall, layout, CAL, precordial={v1: 0.2})
    assert plain[v1] >= 0.5 > crossed[v1]
    assert any("unlike its neighbouring chest leads" in why for why in reasons[v1])


def test_a_strip_that_repeats_nothing_still_takes_its_label() -> None:
    from digitize.identity import _override

    beats = np.arange(0.4, 10, 0.8)
    layout = _layout()
    traces = [_row(100.0 * (i + 1), beats + 0.1 * i, height_px=40.0 - 25.0 * i) for i in range(3)]
    x = traces[0].x
    noise = RowTrace(x, 400.0 + 8.0 * np.sin(x * 0.37) * np.cos(x * 0.051), np.ones(x.size, bool), np.ones(x.size))
    strip_index = next(i for i, p in enumerate(layout.panels) if p.row == 3)
    taken = _override(layout, {strip_index: ("III", 0.95)}, [], [*traces, noise], 4.0)
    assert taken.panels[strip_index].lead == "III"
