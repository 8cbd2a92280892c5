"""Grid refusal on paper without a grid, the calibration-pulse fallback, and paper speed / gain from the pulse."""

from __future__ import annotations

import pytest

from digitize.calibrate import Calibration, Pulse, apply_pulses, grid_evidence, speed_from_pulses
from digitize.metrics import record_scores, record_snr
from digitize.preprocess import ink_layers, rectify
from ecg.record import LEADS


def _render(**choices):
    synth = pytest.importorskip("synth")
    from synth.demo import synthetic_record

    settings = {"layout": "3x4+1", "paper": "red", "dpi": 150, "speed_mm_s": 25.0, "gain_mm_mv": 10.0} | choices
    return synth.synthesize(synthetic_record(), 3, "none", **settings)


def _digitize(rendered):
    from digitize.pipeline import digitize_image

    result = digitize_image(rendered.image[:, :, ::-1].copy())
    snr = record_snr(record_scores(rendered.truth.plotted.signals, result.record.signals, 500.0, LEADS))
    return result, snr


def _evidence(rendered):
    rect = rectify(rendered.image[:, :, ::-1].copy())
    return grid_evidence(ink_layers(rect.image, paper_mask=rect.paper_mask).lines, mask=rect.paper_mask)


@pytest.mark.parametrize("paper", ["red", "grey", "bw"])
def test_gridded_paper_shows_a_grid(paper):
    assert _evidence(_render(paper=paper)).is_grid


def test_paper_without_grid_shows_none():
    evidence = _evidence(_render(paper="none"))
    assert not evidence.is_grid
    assert evidence.periods_x < 35 or evidence.strength_x < 0.15


@pytest.mark.slow
def test_no_grid_render_is_scaled_from_the_pulse():
    rendered = _render(paper="none")
    result, snr = _digitize(rendered)
    cal = result.calibration
    assert cal.source == "pulse"
    assert cal.px_per_mm_x == pytest.approx(rendered.truth.spec.px_per_mm, rel=0.02)
    assert cal.px_per_mm_y == pytest.approx(rendered.truth.spec.px_per_mm, rel=0.02)
    assert any("no grid" in note and "calibration pulse" in note for note in result.quality_notes)
    assert snr >= 3.0
    # lower confidence than the same page on gridded paper
    gridded, _ = _digitize(_render(paper="red"))
    assert result.quality < gridded.quality


@pytest.mark.slow
@pytest.mark.parametrize("paper", ["none", "red"])
def test_wide_50_mm_s_pulse_between_close_rows_is_found_whole(paper):
    """6×2 at 50 mm/s: the pulse's top lies outside the band that finds the row's extent, so the row seems to start at
    the pulse's falling edge; the pulse is still measured whole and sets the speed."""
    rendered = _render(paper=paper, layout="6x2", speed_mm_s=50.0)
    result, snr = _digitize(rendered)
    found = [p for p in result.layout.pulses if p is not None]
    assert len(found) >= 4
    assert all(p.step_width_px == pytest.approx(10 * rendered.truth.spec.px_per_mm, rel=0.1) for p in found)
    assert result.calibration.speed_mm_s == 50.0 and result.calibration.gain_mm_mv == 10.0
    assert snr >= 6.0


def test_pulse_width_sets_the_time_scale_without_grid():
    cal = Calibration(3.0, 3.0, source="assumed")
    pulses = [Pulse(10, 52, 78.7, 200, width_px=41.0), Pulse(10, 52, 78.9, 400, width_px=41.2)]
    out = apply_pulses(cal, pulses)
    assert out.px_per_mm_x == pytest.approx(41.1 / 5.0)
    assert out.px_per_mm_y == pytest.approx(7.88)
    assert "0.2 s wide): 25 mm/s, 10 mm/mV" in out.notes[-1]


def test_pulse_width_fitting_no_print_setting_is_not_trusted():
    out = apply_pulses(Calibration(3.0, 3.0, source="assumed"), [Pulse(10, 130, 80.0, 200, width_px=120.0)])
    assert out.px_per_mm_x == pytest.approx(out.px_per_mm_y)
    assert "fits no standard paper speed" in out.notes[-1]


@pytest.mark.parametrize(("page_px_per_mm", "speed", "gain"), [(8.0, 50.0, 10.0), (16.0, 25.0, 5.0)])
def test_a_pulse_twice_as_wide_as_tall_keeps_mv_and_seconds_right(page_px_per_mm, speed, gain):
    """50 mm/s at 10 mm/mV and 25 mm/s at 5 mm/mV draw the same pulse; the page width picks the print settings,
    and the record's scale (px per mV, px per s) is the pulse's either way."""
    pulses = [Pulse(10, 95, 80.0, 200, width_px=80.0), Pulse(10, 95, 80.4, 400, width_px=80.2)]
    out = apply_pulses(Calibration(page_px_per_mm, page_px_per_mm, source="assumed"), pulses)
    assert (out.speed_mm_s, out.gain_mm_mv, out.source) == (speed, gain, "pulse")
    assert out.px_per_mv == pytest.approx(80.2)
    assert out.px_per_s == pytest.approx(80.1 / 0.2)
    assert "same pulse shape" in out.notes[-1]


def test_speed_from_pulse_widths():
    assert speed_from_pulses([5.1, 4.9, 5.0])[0] == 25.0
    speed, note = speed_from_pulses([10.1, 9.9, 10.0])
    assert speed == 50.0 and "speed" in note and "50" in note
    speed, note = speed_from_pulses([10.0])  # one pulse only: flagged, not used
    assert speed == 25.0 and "speed" in note
    speed, note = speed_from_pulses([7.5, 7.5])
    assert speed == 25.0 and "no standard paper speed" in note


@pytest.mark.slow
def test_fifty_mm_per_second_printout_is_read_at_its_speed():
    rendered = _render(speed_mm_s=50.0)
    result, snr = _digitize(rendered)
    assert result.calibration.speed_mm_s == 50.0
    assert result.layout.duration_s == pytest.approx(5.0)
    assert any("speed" in note and "50" in note for note in result.quality_notes)
    assert snr >= 6.0


@pytest.mark.slow
def test_five_mm_per_millivolt_printout_is_read_at_its_gain():
    rendered = _render(gain_mm_mv=5.0)
    result, snr = _digitize(rendered)
    assert result.calibration.gain_mm_mv == 5.0
    assert any("gain 5 mm/mV" in note for note in result.quality_notes)
    assert snr >= 6.0
