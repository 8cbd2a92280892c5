"""Reconstruction filters: the smoother keeps QRS height and width; the high-pass is optional and off by default."""

from __future__ import annotations

import numpy as np

from digitize.reconstruct import SUGGESTED_HIGHPASS_HZ, clean_segment

FS = 500.0


def _qrs(width_s: float) -> np.ndarray:
    """2.5 s of flat line with a triangular R wave (1.5 mV) of the given base width in the middle."""
    t = np.arange(int(2.5 * FS)) / FS
    return np.clip(1.5 * (1 - np.abs(t - 1.25) / (width_s / 2)), 0, None)


def _width_at_half(values: np.ndarray) -> float:
    above = np.flatnonzero(values >= 0.5 * values.max())
    return (above[-1] - above[0] + 1) / FS


def test_smoothing_keeps_a_narrow_qrs():
    for width in (0.04, 0.08):  # narrow and normal QRS
        raw = _qrs(width)
        smooth = clean_segment(raw, FS)
        assert smooth.max() > 0.95 * raw.max()
        assert abs(_width_at_half(smooth) - _width_at_half(raw)) <= 2 / FS + 1e-9  # at most 4 ms


def test_no_highpass_by_default_keeps_the_drawn_baseline():
    t = np.arange(int(2.5 * FS)) / FS
    drift = 0.3 * np.sin(2 * np.pi * 0.2 * t)
    kept = clean_segment(drift, FS)
    assert np.max(np.abs(kept - drift)) < 0.01
    filtered = clean_segment(drift, FS, highpass_hz=SUGGESTED_HIGHPASS_HZ)
    assert np.std(filtered) < 0.6 * np.std(drift)
