"""Quarter-turn orientation: DataSynth renders turned by a known angle are put upright, and the notes say so."""

from __future__ import annotations

import numpy as np
import pytest

from digitize.metrics import record_scores, record_snr
from digitize.orient import detect_orientation, upright
from ecg.record import LEADS


@pytest.fixture(scope="module")
def rendered():
    synth = pytest.importorskip("digitize.synth")
    from digitize.synth.demo import synthetic_record

    return synth.synthesize(
        synthetic_record(), 3, "none", layout="3x4+1", paper="red", dpi=150, speed_mm_s=25.0, gain_mm_mv=10.0
    )


@pytest.mark.parametrize("turn", [0, 1, 2, 3])
def test_turned_render_is_put_upright(rendered, turn):
    image = rendered.image[:, :, ::-1]
    turned = np.ascontiguousarray(np.rot90(image, turn))
    found = detect_orientation(turned)
    assert (found.quarter_turns + turn) % 4 == 0, found.note
    assert found.confident
    assert np.array_equal(upright(turned, found), image)
    if turn:
        assert "rotated by" in found.note and "corrected" in found.note


def test_blank_page_is_left_as_found_and_not_confident():
    page = np.full((600, 800, 3), 250, np.uint8)
    found = detect_orientation(page)
    assert found.quarter_turns == 0 and not found.confident


def test_upside_down_scan_is_digitized_with_a_note(rendered):
    from digitize.pipeline import digitize_image

    turned = np.ascontiguousarray(np.rot90(rendered.image[:, :, ::-1], 2))
    result = digitize_image(turned)
    assert any("rotated by 180" in note and "corrected" in note for note in result.quality_notes)
    snr = record_snr(record_scores(rendered.truth.plotted.signals, result.record.signals, 500.0, LEADS))
    assert snr > 6.0
