import numpy as np
import pytest

from ecg import LEADS, EcgRecord, InvalidRecordError, finite_runs, lead_name


def _sine_record(fs: float, seconds: float = 10.0, freq: float = 3.0) -> EcgRecord:
    t = np.arange(int(seconds * fs)) / fs
    return EcgRecord(np.tile(np.sin(2 * np.pi * freq * t), (12, 1)), fs)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("AVR", "aVR"), ("avr", "aVR"), ("aVL", "aVL"), ("v1", "V1"), ("Lead II", "II"), ("D3", "III"), ("MLII", "II")],
)
def test_lead_names_are_normalised(raw, expected):
    assert lead_name(raw) == expected


def test_unknown_lead_name_is_none():
    assert lead_name("V7") is None
    assert lead_name("SpO2") is None


def test_record_validates_shape_and_values():
    with pytest.raises(InvalidRecordError, match=r"shape \(12, n_samples\)"):
        EcgRecord(np.zeros((11, 100)))
    with pytest.raises(InvalidRecordError, match="infinite"):
        EcgRecord(np.full((12, 100), np.inf))
    with pytest.raises(InvalidRecordError, match="all values NaN"):
        EcgRecord(np.full((12, 100), np.nan))
    with pytest.raises(InvalidRecordError, match="sampling rate"):
        EcgRecord(np.zeros((12, 100)), fs=0)
    with pytest.raises(InvalidRecordError, match="µV"):
        EcgRecord(np.full((12, 100), 800.0))


def test_signals_are_float32_and_read_only():
    record = EcgRecord(np.zeros((12, 10), dtype=np.float64))
    assert record.signals.dtype == np.float32
    with pytest.raises(ValueError):
        record.signals[0, 0] = 1.0


def test_from_leads_fills_missing_leads_with_nan_and_rejects_unknown():
    record = EcgRecord.from_leads({"II": np.ones(50), "AVR": np.zeros(50)}, fs=500)
    assert record.present_leads == ("II", "aVR")
    assert np.isnan(record.lead("V1")).all()
    with pytest.raises(InvalidRecordError, match="unknown lead"):
        EcgRecord.from_leads({"II": np.ones(50), "X9": np.ones(50)})
    with pytest.raises(InvalidRecordError, match="twice"):
        EcgRecord.from_leads({"aVR": np.ones(50), "AVR": np.ones(50)})
    with pytest.raises(InvalidRecordError, match="different lengths"):
        EcgRecord.from_leads({"I": np.ones(50), "II": np.ones(49)})


def test_partial_leads_keep_their_windows():
    sig = np.full((12, 5000), np.nan)
    sig[LEADS.index("II")] = 0.1  # rhythm strip: 10 s
    sig[LEADS.index("V1"), 2500:3750] = 0.2  # 2.5 s block starting at 5 s
    record = EcgRecord(sig)
    assert list(record.segments("V1")) == [(2500, 3750)]
    assert record.coverage()["V1"] == pytest.approx(0.25)
    assert record.coverage()["II"] == 1.0


@pytest.mark.parametrize("source_fs", [250.0, 1000.0, 360.0])
def test_resample_to_500_hz_preserves_the_waveform(source_fs):
    record = _sine_record(source_fs)
    out = record.resample(500)
    assert out.fs == 500
    assert out.n_samples == pytest.approx(5000, abs=1)
    expected = np.sin(2 * np.pi * 3.0 * out.time_s)
    core = slice(100, -100)  # edges carry the filter's transient
    assert np.max(np.abs(out.lead("I")[core] - expected[core])) < 0.01
    assert out.meta["resampled_from_hz"] == source_fs


def test_resample_keeps_nan_gaps_in_place():
    sig = np.full((12, 10000), np.nan)
    sig[LEADS.index("V2"), 5000:7500] = 0.5  # 2.5 s at 1 kHz, from 5 s
    sig[LEADS.index("II")] = 0.1
    out = EcgRecord(sig, 1000).resample(500)
    assert list(out.segments("V2")) == [(2500, 3750)]


def test_finite_runs():
    values = np.array([np.nan, 1, 2, np.nan, np.nan, 3, np.nan, 4])
    assert list(finite_runs(values)) == [(1, 3), (5, 6), (7, 8)]
