"""Lead-label reading: CTC scoring, stroke counting, the recogniser on rendered labels, label-driven assignment."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitize.identity import _factors, _override
from digitize.layout import TEMPLATES, Layout, template_panels
from digitize.ocr import ctc_probability, roman_strokes


def _render(text: str, scale: float = 1.2, thickness: int = 2) -> np.ndarray:
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    image = np.full((h + base + 12, w + 12), 255, np.uint8)
    cv2.putText(image, text, (6, h + 6), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, thickness, cv2.LINE_AA)
    return image


def test_ctc_probability_prefers_the_emitted_label() -> None:
    # frames: blank, a, a, blank, b  (classes: 0 blank, 1 'a', 2 'b')
    probs = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.1, 0.85, 0.05], [0.9, 0.05, 0.05], [0.05, 0.05, 0.9]])
    ab = ctc_probability(probs, [[1], [2]])
    ba = ctc_probability(probs, [[2], [1]])
    aab = ctc_probability(probs, [[1], [1], [2]])
    assert ab > 0.5 > ba
    assert aab < ab
    assert ctc_probability(probs[:1], [[1], [2]]) == 0.0  # too few frames for two characters
    # alternatives at a position add up
    assert ctc_probability(probs, [[1, 2], [2]]) >= ab


@pytest.mark.parametrize("n", [1, 2, 3])
def test_roman_strokes_counts_bars(n: int) -> None:
    image = np.full((40, 60), 255, np.uint8)
    for k in range(n):
        image[8:32, 10 + 10 * k : 13 + 10 * k] = 0
    assert roman_strokes(image) == n


def test_roman_strokes_rejects_letters() -> None:
    assert roman_strokes(_render("aVR")) == 0
    assert roman_strokes(_render("V1")) == 0


def test_recogniser_reads_rendered_lead_names() -> None:
    from ecg.manifest import ModelUnavailableError

    try:
        from digitize.ocr import score_leads

        names = ["aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6", "II"]
        reads = score_leads([_render(n) for n in names])
    except ModelUnavailableError as exc:
        pytest.skip(f"label model not shipped here: {exc}")
    right = sum(lead == n and p >= 0.5 for (lead, p), n in zip(reads, names, strict=True))
    assert right >= 9, reads
    lead, p = score_leads([_render("25mm/s")])[0]
    assert p < 0.5


def _layout(template: str) -> Layout:
    panels = template_panels(TEMPLATES[template], 100.0, 10.0, 100.0)
    rows = len(TEMPLATES[template])
    return Layout(template, tuple(100.0 + 80.0 * i for i in range(rows)), 80.0, 100.0, 1100.0, 10.0, panels, ())


def test_override_swaps_leads_and_keeps_each_once() -> None:
    layout = _layout("3x4+1")
    # labels say the first column is aVL, I, aVR (Cabrera) and the rhythm strip shows V1
    reads = {0: ("aVL", 0.99), 4: ("I", 0.95), 8: ("aVR", 0.97), 12: ("V1", 0.9)}
    notes: list[str] = []
    final = _override(layout, reads, notes)
    grid = [p.lead for p in final.panels if p.row < 3]
    assert sorted(grid) == sorted(p.lead for p in layout.panels if p.row < 3)  # still every lead once
    assert [final.panels[i].lead for i in (0, 4, 8, 12)] == ["aVL", "I", "aVR", "V1"]
    assert len(notes) == 4


def test_low_probability_labels_do_not_override_but_lower_confidence() -> None:
    layout = _layout("6x2+1")
    reads = {0: ("aVF", 0.6)}
    final = _override(layout, reads, [])
    assert final.panels[0].lead == "I"
    factors = _factors(final, reads, tuple(p.lead for p in layout.panels))
    assert factors["I"][0] < 1.0 and "aVF" in factors["I"][1]


def test_blurred_photo_labels_do_not_rename_grid_panels() -> None:
    """photo15: with ``override=False`` a grid panel keeps its template lead (the label only lowers confidence),
    and a rhythm strip takes its label only when it repeats that lead's panel (here it repeats nothing)."""
    from digitize.calibrate import Calibration
    from digitize.identity import assign_leads
    from digitize.labels import LabelRead
    from digitize.trace import RowTrace

    layout = _layout("3x4+1")
    xs = np.arange(100.0, 1100.0)
    rng = np.random.default_rng(0)
    traces = [
        RowTrace(xs, y + rng.normal(0, 1.0, xs.size), np.ones(xs.size, bool), np.ones(xs.size))
        for y in layout.baselines
    ]
    reads = [LabelRead(0, "V1", 0.95, (0, 0, 1, 1)), LabelRead(1, "aVR", 0.95, (0, 0, 1, 1)),
             LabelRead(12, "V5", 0.95, (0, 0, 1, 1))]
    calibration = Calibration(4.0, 4.0)
    renamed, _, _, _ = assign_leads(traces, layout, calibration, 500.0, reads)
    kept, _, notes, factors = assign_leads(traces, layout, calibration, 500.0, reads, override=False)
    assert renamed.panels[0].lead == "V1"  # the default trusts a sure label
    assert kept.panels[0].lead == "I" and factors["I"][0] < 1.0 and "V1" in factors["I"][1]
    assert renamed.panels[12].lead == "V5"  # by default a strip repeating nothing takes its label
    assert kept.panels[12].lead == "II"  # on a blurred photo it needs the grid's V5 panel to agree
    assert any("do not rename grid panels" in n for n in notes)
    assert any("not confirmed" in n for n in notes)
