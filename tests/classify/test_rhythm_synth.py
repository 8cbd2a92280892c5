"""Labelled synthetic rhythms change the timing the way each class requires."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks

from classify.train.rhythm_synth import RHYTHM_KINDS, synthesize_rhythm
from ecg.record import EcgRecord

FS = 500.0


def _sinus(rr_s: float = 0.8, seconds: float = 10.0) -> tuple[EcgRecord, np.ndarray]:
    t = np.arange(int(seconds * FS)) / FS
    peaks = np.arange(0.4, seconds - 0.1, rr_s)
    lead = np.zeros_like(t)
    for r in peaks:
        lead += 1.0 * np.exp(-((t - r) ** 2) / (2 * 0.01**2))
        lead += 0.12 * np.exp(-((t - r + 0.16) ** 2) / (2 * 0.02**2))
        lead += 0.3 * np.exp(-((t - r - 0.3) ** 2) / (2 * 0.04**2))
    signals = np.tile(lead, (12, 1)).astype(np.float32)
    return EcgRecord(signals, fs=FS), np.round(peaks * FS).astype(int)


def _rr(record: EcgRecord) -> np.ndarray:
    peaks, _ = find_peaks(np.abs(record.signals[1]), height=0.5, distance=int(0.2 * FS))
    return np.diff(peaks) / FS


@pytest.mark.parametrize("kind", RHYTHM_KINDS)
def test_every_kind_keeps_shape_and_finiteness(kind):
    record, peaks = _sinus()
    out = synthesize_rhythm(record, kind, np.random.default_rng(0), peaks)
    assert out.signals.shape == record.signals.shape and np.isfinite(out.signals).all()
    assert out.meta["synthetic_rhythm"] == kind


def test_atrial_tachycardia_runs_at_150_to_200_bpm():
    record, peaks = _sinus()
    rr = _rr(synthesize_rhythm(record, "AT", np.random.default_rng(1), peaks))
    assert 60 / 205 < np.median(rr) < 60 / 145


def test_fibrillation_is_irregular_and_flutter_regular():
    record, peaks = _sinus()
    assert np.std(_rr(record)) < 0.01
    rr_af = _rr(synthesize_rhythm(record, "AFIB", np.random.default_rng(2), peaks))
    assert np.std(rr_af) / np.mean(rr_af) > 0.08
    rr_fl = _rr(synthesize_rhythm(record, "AFLT", np.random.default_rng(3), peaks))
    assert np.std(rr_fl) / np.mean(rr_fl) < 0.05


def test_pvc_is_early_with_a_compensatory_pause_and_escape_follows_a_pause():
    record, peaks = _sinus()
    rr = _rr(synthesize_rhythm(record, "PVC", np.random.default_rng(4), peaks))
    early = int(np.argmin(rr))
    assert rr[early] < 0.7 * 0.8 and abs(rr[early] + rr[early + 1] - 1.6) < 0.06
    rr = _rr(synthesize_rhythm(record, "AESC", np.random.default_rng(5), peaks))
    assert rr.max() > 1.5 * np.median(rr)


def test_unknown_kind_is_refused():
    record, peaks = _sinus()
    with pytest.raises(ValueError, match="valid: PAC"):
        synthesize_rhythm(record, "VT", np.random.default_rng(0), peaks)
