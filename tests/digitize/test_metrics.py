"""The challenge SNR and Pearson r on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from digitize.metrics import lead_score, pearson, record_scores, record_snr

FS = 500.0


def _ref(n: int = 2000) -> np.ndarray:
    t = np.arange(n) / FS
    return np.sin(2 * np.pi * 1.3 * t) + 0.5 * np.sin(2 * np.pi * 7 * t)


def test_known_noise_gives_known_snr():
    ref = _ref()
    noise = 0.1 * np.where(np.arange(ref.size) % 2 == 0, 1.0, -1.0)  # zero-mean, power 0.01
    score = lead_score(ref, ref + noise, FS, max_shift_s=0.0)
    expected = 10 * np.log10(np.mean(ref**2) / 0.01)
    assert score.snr_db == pytest.approx(expected, abs=0.05)
    assert score.coverage == 1.0


def test_offset_within_one_millivolt_is_forgiven():
    ref = _ref()
    assert lead_score(ref, ref + 0.7, FS).raw_snr_db > 60
    # beyond 1 mV only 1 mV is removed: the residual 0.5 mV offset remains
    score = lead_score(ref, ref + 1.5, FS, max_shift_s=0.0)
    assert score.offset_mv == pytest.approx(-1.0)
    assert score.raw_snr_db == pytest.approx(10 * np.log10(np.mean(ref**2) / 0.25), abs=0.01)


def test_shift_within_half_a_second_is_found():
    ref = _ref(3000)
    est = np.roll(ref, 60)  # estimate late by 0.12 s
    est[:60] = np.nan
    score = lead_score(ref, est, FS)
    assert score.shift_s == pytest.approx(-0.12)
    assert score.raw_snr_db > 60


def test_coverage_scales_the_snr():
    ref = _ref()
    est = ref + 0.1 * np.where(np.arange(ref.size) % 2 == 0, 1.0, -1.0)
    est[: ref.size // 2] = np.nan
    score = lead_score(ref, est, FS, max_shift_s=0.0)
    assert score.coverage == pytest.approx(0.5)
    assert score.snr_db == pytest.approx(0.5 * score.raw_snr_db)


def test_missing_estimate_scores_zero_and_record_mean():
    ref = np.vstack([_ref(), _ref()])
    est = np.vstack([ref[0] + 0.1, np.full(ref.shape[1], np.nan)])
    scores = record_scores(ref, est, FS, ("I", "II"))
    assert scores["II"].snr_db == 0.0
    assert record_snr(scores) == pytest.approx(scores["I"].snr_db / 2)


def test_pearson_hand_case():
    assert pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])) == pytest.approx(1.0)
    assert pearson(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == pytest.approx(-1.0)
