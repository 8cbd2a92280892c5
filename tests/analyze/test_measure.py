"""`measure` on synthetic records with known intervals, partial leads and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analyze import INTERVAL_KEYS, Measurements, measure
from analyze.errors import NoLongLeadError, RecordTooShortError, UnmeasurableRecordError
from analyze.simulate import simulate_ecg, three_by_four
from ecg.errors import EcgInputError
from ecg.record import LEADS, EcgRecord


def test_rate_and_beats_are_exact(normal_measurements):
    m = normal_measurements
    assert m.heart_rate_bpm == pytest.approx(60.0, abs=0.5)
    assert m.rr_mean_ms == pytest.approx(1000.0, abs=5)
    assert m.beat_count == 10
    assert np.all(np.diff(m.r_peaks) == 500)


def test_intervals_within_tolerance_of_the_model(normal_measurements):
    """The Hann-bump model has exact boundaries; the measurement follows the LUDB annotators' global convention,
    which on this sharp synthetic QRS reads it wider (see the README's measurement section)."""
    m = normal_measurements
    assert m.pr_ms == pytest.approx(160, abs=25)
    assert m.qt_ms == pytest.approx(400, abs=40)
    assert 80 <= m.qrs_ms <= 150
    assert m.qtc_bazett_ms == pytest.approx(m.qt_ms, abs=1)  # RR = 1 s


def test_intervals_track_the_true_intervals():
    short = measure(simulate_ecg(pr_ms=140, qrs_ms=80, qt_ms=360))
    long = measure(simulate_ecg(pr_ms=240, qrs_ms=140, qt_ms=460))
    assert long.pr_ms - short.pr_ms == pytest.approx(100, abs=20)
    assert long.qrs_ms - short.qrs_ms == pytest.approx(60, abs=20)
    assert long.qt_ms - short.qt_ms == pytest.approx(100, abs=25)


def test_axis_of_the_model(normal_measurements):
    # QRS dominated by the R vector (x=1.0, y=0.9): about +42°, minus Q and S
    assert normal_measurements.qrs_axis_deg == pytest.approx(45, abs=10)
    assert normal_measurements.p_axis_deg == pytest.approx(50, abs=10)


def test_to_dict_has_the_contract_keys_and_is_json(normal_measurements):
    d = normal_measurements.to_dict()
    assert list(d)[: len(INTERVAL_KEYS)] == list(INTERVAL_KEYS)
    for key in ("r_peaks", "beat_count", "leads", "confidence", "missing"):
        assert key in d
    assert set(d["leads"]) == set(LEADS)
    json.dumps(d, allow_nan=False)
    again = Measurements.from_dict(json.loads(json.dumps(d)))
    assert again.qrs_ms == normal_measurements.qrs_ms and again.lead("V1") is not None


def test_partial_leads_3x4_still_measure(normal_record, normal_measurements):
    m = measure(three_by_four(normal_record))
    assert m.rhythm_leads == ("II",)
    assert m.heart_rate_bpm == pytest.approx(60.0, abs=0.5)
    assert set(m.leads) == set(LEADS)  # every 2.5 s block gave a median beat
    for key in ("pr_ms", "qrs_ms", "qt_ms", "qrs_axis_deg"):
        assert getattr(m, key) == pytest.approx(getattr(normal_measurements, key), abs=12)


def test_other_sampling_rate_gives_the_same_intervals(normal_measurements):
    m = measure(simulate_ecg(fs=250.0))
    assert m.fs == 250.0
    assert m.heart_rate_bpm == pytest.approx(60.0, abs=0.5)
    for key in ("pr_ms", "qrs_ms", "qt_ms"):
        assert getattr(m, key) == pytest.approx(getattr(normal_measurements, key), abs=15)


def test_afib_like_record_has_no_consistent_p_wave():
    m = measure(simulate_ecg(rr_jitter=0.25, p_waves=False, heart_rate_bpm=90, noise_mv=0.01, seed=3))
    assert m.rr_irregularity > 0.08
    assert not m.p_wave_present or (m.p_wave_consistency or 0) < 0.5
    assert m.pr_ms is None and "pr_ms" in m.missing


def test_noise_does_not_break_measurement(normal_measurements):
    m = measure(simulate_ecg(noise_mv=0.03, seed=1))
    assert m.heart_rate_bpm == pytest.approx(60.0, abs=0.5)
    assert m.qrs_ms == pytest.approx(normal_measurements.qrs_ms, abs=20)


def test_unknown_method_lists_the_valid_ones(normal_record):
    with pytest.raises(ValueError, match="spatial"):
        measure(normal_record, method="nope")  # type: ignore[arg-type]


def test_one_second_record_is_too_short():
    with pytest.raises(RecordTooShortError, match=r"1\.0 s long; at least 4 s"):
        measure(simulate_ecg(duration_s=1.0))


def test_no_long_lead_is_a_clear_error(normal_record):
    sig = three_by_four(normal_record).signals.copy()
    sig[LEADS.index("II")] = np.nan
    with pytest.raises(NoLongLeadError, match="no lead is recorded for at least 4 s"):
        measure(EcgRecord(sig, normal_record.fs))


def test_all_nan_record_is_an_input_error():
    with pytest.raises(EcgInputError):
        measure(EcgRecord(np.full((12, 5000), np.nan), 500.0))


def test_flat_line_has_too_few_beats():
    with pytest.raises(UnmeasurableRecordError, match="beat"):
        measure(EcgRecord(np.zeros((12, 5000)), 500.0))


def test_errors_are_input_errors():
    assert issubclass(UnmeasurableRecordError, EcgInputError)
