"""Grid pitch on synthetic grids of known pitch, and the calibration pulse."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the drawing helpers beside this file
from ecg_drawing import draw_grid

from digitize.calibrate import Calibration, Pulse, apply_pulses, calibrate, find_pulse, gain_from_pulses
from digitize.preprocess import ink_layers


@pytest.mark.parametrize("px_x, px_y", [(7.874, 7.874), (6.3, 5.9), (4.2, 4.5), (11.81, 11.81)])
def test_grid_pitch_error_below_one_percent(px_x, px_y):
    grid = draw_grid(int(280 * px_x), int(200 * px_y), px_x, px_y)
    layers = ink_layers(grid)
    cal = calibrate(layers.lines)
    assert cal.source == "grid"
    assert abs(cal.px_per_mm_x / px_x - 1) < 0.01
    assert abs(cal.px_per_mm_y / px_y - 1) < 0.01


def test_black_and_white_grid_is_measured():
    grid = draw_grid(
        1700, 1200, 6.0, 6.0, colour=(120, 120, 120), minor_colour=(200, 200, 200), paper=(255, 255, 255)
    )
    cal = calibrate(ink_layers(grid).lines)
    assert abs(cal.px_per_mm_x / 6.0 - 1) < 0.01


def test_blank_page_has_no_grid():
    cal = calibrate(np.zeros((800, 1100), np.float32))
    assert cal.source == "assumed"


def test_pulse_is_found_and_sets_gain():
    prob = np.zeros((400, 600), np.float32)
    baseline, px_per_mm = 300, 6.0
    top = int(baseline - 20 * px_per_mm)  # a 20 mm pulse → 20 mm/mV
    prob[baseline - 1 : baseline + 2, 40:60] = 1.0
    prob[top : baseline + 1, 59:62] = 1.0
    prob[top - 1 : top + 2, 60:90] = 1.0
    prob[top : baseline + 1, 88:91] = 1.0
    prob[baseline - 1 : baseline + 2, 90:300] = 1.0
    pulse = find_pulse(prob, baseline, 30, 200, px_per_mm_x=px_per_mm, band_px=(100, 330))
    assert pulse is not None
    assert abs(pulse.height_px / px_per_mm - 20) < 1.0
    assert 85 <= pulse.x_end <= 93
    cal = apply_pulses(Calibration(px_per_mm, px_per_mm), [pulse])
    assert cal.gain_mm_mv == 20.0


def test_unusual_pulse_keeps_standard_gain():
    gain, note = gain_from_pulses([14.0])
    assert gain == 10.0 and "matches no standard gain" in note


def test_no_grid_falls_back_to_pulse_and_says_so():
    cal = Calibration(3.0, 3.0, source="assumed")
    pulse = Pulse(10, 40, 80.0, 200)
    out = apply_pulses(cal, [pulse, None])
    assert out.source == "pulse" and out.px_per_mm_y == pytest.approx(8.0)
    assert any("calibration pulse" in n for n in out.notes)
