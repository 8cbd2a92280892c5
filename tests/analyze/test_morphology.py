"""QRS wave naming on constructed median beats, and the RR irregularity that ignores ectopic beats."""

from __future__ import annotations

import numpy as np
import pytest

from analyze.beats import MedianBeats
from analyze.measure import _irregularity_without, _rr_irregularity, premature_by_timing
from analyze.morphology import lead_morphology
from ecg.record import LEADS

FS = 500.0
ON, OFF = 250, 330  # QRS onset and offset (samples): 160 ms


def bump(n: int, start: int, width: int, height: float) -> np.ndarray:
    out = np.zeros(n)
    k = np.arange(width)
    out[start : start + width] = height * (0.5 - 0.5 * np.cos(2 * np.pi * k / width))
    return out


def morphology_of(wave: np.ndarray) -> dict:
    waves = np.tile(wave, (len(LEADS), 1))
    median = MedianBeats(waves, r_index=ON + 40, fs=FS, n_beats=np.full(len(LEADS), 8))
    return lead_morphology(median, ON, OFF, None, None)["V1"]


def test_qs_complex_with_rising_st_has_no_r_wave():
    """LBBB's V1: one deep negative wave, then the discordant ST elevation still rising at the QRS end."""
    n = 650
    wave = bump(n, ON, OFF - ON - 10, -1.5)
    ramp = np.clip(np.arange(n) - (OFF - 12), 0, None) * 0.006  # rising through and after the QRS end
    wave = wave + np.where(np.arange(n) < OFF + 60, ramp, ramp[OFF + 60])
    v1 = morphology_of(wave)
    assert v1.r_mv == 0.0 and v1.r_prime_mv == 0.0 and v1.r_peak_time_ms is None
    assert min(v1.q_mv, v1.s_mv) < -1.0


def test_rsr_prime_is_found_inside_the_qrs():
    """RBBB's V1: small r, S, then a tall R' that falls back before the QRS ends."""
    n = 650
    wave = bump(n, ON, 20, 0.3) + bump(n, ON + 20, 20, -0.5) + bump(n, ON + 40, 34, 1.0)
    v1 = morphology_of(wave)
    assert v1.r_mv == pytest.approx(0.3, abs=0.02)
    assert v1.r_prime_mv == pytest.approx(1.0, abs=0.02)
    assert v1.s_mv < -0.3
    assert v1.r_peak_time_ms == pytest.approx((40 + 17) * 2, abs=4)


def test_irregularity_ignores_premature_beats_and_compensatory_pauses():
    rr = np.array([1.0, 1.0, 0.6, 1.4, 1.0, 1.0, 1.0, 0.6, 1.4, 1.0, 1.0])
    dominant = np.ones(len(rr) + 1, dtype=bool)
    dominant[[3, 8]] = False  # the premature (ectopic) beats ending RR 0.6
    assert _rr_irregularity(rr, dominant) == pytest.approx(0.0)
    assert _irregularity_without(rr, np.ones(len(rr) + 1, dtype=bool)) > 0.3  # counted, they look irregular


def test_irregularity_of_an_irregular_rhythm_and_of_too_few_beats():
    rng = np.random.default_rng(0)
    rr = rng.uniform(0.5, 1.1, 20)
    assert _rr_irregularity(rr, np.ones(21, dtype=bool)) > 0.2
    assert _rr_irregularity(rr[:2], np.ones(3, dtype=bool)) is None


def test_bigeminy_with_dominant_looking_ectopics_is_not_irregular():
    """Premature beats with full compensatory pauses, not told apart by morphology (one lead read)."""
    rr = np.array([0.72, 0.72, 0.72, 0.54, 0.90, 0.72, 0.49, 0.95, 0.64, 0.81, 0.72, 0.72])
    every_beat = np.ones(len(rr) + 1, dtype=bool)
    assert _rr_irregularity(rr, every_beat) < 0.03
    flagged = premature_by_timing(rr)
    assert np.flatnonzero(flagged).tolist() == [4, 7, 9]


def test_fibrillation_stays_irregular_after_the_timing_rule():
    """On random (fibrillation-like) RR sequences the timing rule almost never applies."""
    rng = np.random.default_rng(1)
    every_beat = np.ones(16, dtype=bool)
    changed = 0
    for _ in range(500):
        rr = rng.uniform(0.45, 1.05, 15)
        changed += _rr_irregularity(rr, every_beat) != _irregularity_without(rr, every_beat)
    assert changed <= 5
