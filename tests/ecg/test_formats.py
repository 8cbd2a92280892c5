"""Round trips and bad files for every record format (CSV, EDF+, WFDB, JSON)."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecg import LEADS, EcgInputError, EcgRecord, FormatError, UnsupportedFormatError
from ecg.io import read_record, write_record

# Resolution of each format (mV): half a quantisation step is the most a round trip may change a value.
RESOLUTION = {".csv": 1e-4, ".edf": 10.0 / 65535, ".hea": 1e-3, ".json": 0.0}  # EDF: ±5 mV range / 16 bit


@pytest.fixture
def partial_record(rng) -> EcgRecord:
    """A 3×4-printout-like record: every lead 2.5 s, lead II the full 10 s."""
    sig = np.full((12, 5000), np.nan, dtype=np.float32)
    columns = [("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6")]
    for col, names in enumerate(columns):
        for name in names:
            sig[LEADS.index(name), col * 1250 : (col + 1) * 1250] = rng.normal(0, 0.4, 1250)
    sig[LEADS.index("II")] = rng.normal(0, 0.4, 5000)
    sig[LEADS.index("V3"), 3000] = 4.9  # a tall peak sets that lead's range
    return EcgRecord(sig, 500.0, {"source": "test"})


@pytest.mark.parametrize("suffix", [".csv", ".edf", ".hea", ".json"])
def test_round_trip_is_lossless_within_resolution(tmp_path, partial_record, suffix):
    path = write_record(partial_record, tmp_path / f"rec{suffix}")
    back = read_record(path)
    assert back.fs == partial_record.fs
    assert back.n_samples == partial_record.n_samples
    assert np.array_equal(np.isnan(back.signals), np.isnan(partial_record.signals))
    err = np.nanmax(np.abs(back.signals - partial_record.signals))
    assert err <= RESOLUTION[suffix] / 2 + 1e-6


def test_wfdb_keeps_comments(tmp_path, partial_record):
    record = partial_record.with_meta(comments=["scp_codes: {'NORM': 100.0}"])
    back = read_record(write_record(record, tmp_path / "rec.hea"))
    assert back.meta["comments"] == ["scp_codes: {'NORM': 100.0}"]


def test_bundled_sample_reads_as_12_leads_at_500_hz(sample_record_path):
    record = read_record(sample_record_path)
    assert record.fs == 500 and record.n_samples == 5000
    assert record.present_leads == LEADS


def test_ptbxl_flac_record_reads(shared_data):
    record = read_record(shared_data / "ptbxl" / "records500" / "00000" / "00001_hr.hea")
    assert record.present_leads == LEADS and record.n_samples == 5000


def test_read_with_fs_resamples(tmp_path, shared_data):
    record = read_record(shared_data / "wfdb-samples" / "100.hea", fs=500)  # MIT-BIH: 360 Hz, MLII + V5
    assert record.fs == 500
    assert record.present_leads == ("II", "V5")


# --- CSV specifics ---------------------------------------------------------------------------------------------
def _write(tmp_path: Path, text: str, name: str = "rec.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _csv(header: str, rows: int = 20, fs: float = 500.0, cell: str = "0.1") -> str:
    names = header.split(",")[1:]
    lines = [header] + [",".join([f"{i / fs:.6f}"] + [cell] * len(names)) for i in range(rows)]
    return "\n".join(lines) + "\n"


def test_csv_accepts_renamed_and_missing_leads(tmp_path):
    record = read_record(_write(tmp_path, _csv("time_s,AVR,lead II,v1")))
    assert record.present_leads == ("II", "aVR", "V1")
    assert record.meta["missing_leads"] == [n for n in LEADS if n not in ("II", "aVR", "V1")]


def test_csv_sampling_rate_comes_from_time_column(tmp_path):
    assert read_record(_write(tmp_path, _csv("time_s,I,II", fs=250.0))).fs == 250.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("time_s,I,II\n", "no rows"),
        (_csv("time_s,I,II,V7"), "unknown column.*V7"),
        (_csv("time_s,foo,bar"), "unknown column"),
        (_csv("time_s,I,II", cell="abc"), "row 2, column I: 'abc' is not a number"),
        (_csv("time_s,I,II", cell="inf"), "infinite"),
        (_csv("I,II"), "sampling rate is unknown"),
        ("time_s,I\n0,1\n0.002,1\n0.010,1\n0.012,1\n", "irregular time step"),
        ("time_s,I\n0.01,1\n0.00,1\n", "does not increase"),
        (_csv("time_s,I,II", cell="1500"), "µV"),
        (_csv("time_s,I,II", cell=""), "all values NaN"),
    ],
)
def test_bad_csv_gives_a_clear_error(tmp_path, text, message):
    with pytest.raises(EcgInputError, match=message):
        read_record(_write(tmp_path, text))


def test_binary_garbage_csv_gives_a_clear_error(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    with pytest.raises(EcgInputError):
        read_record(path)


# --- EDF and WFDB bad files ------------------------------------------------------------------------------------
def test_garbage_edf_gives_a_clear_error(tmp_path):
    path = tmp_path / "rec.edf"
    path.write_bytes(b"0       this is not an EDF header" * 10)
    with pytest.raises(FormatError, match="not a readable EDF"):
        read_record(path)


def test_edf_with_empty_physical_range_is_refused(tmp_path, partial_record):
    path = write_record(partial_record, tmp_path / "rec.edf")
    raw = bytearray(path.read_bytes())
    ns = int(raw[252:256].decode())
    phys_min = 256 + ns * (16 + 80 + 8)
    phys_max = phys_min + ns * 8
    raw[phys_max : phys_max + 8] = raw[phys_min : phys_min + 8]  # lead I: physical max = physical min
    path.write_bytes(bytes(raw))
    with pytest.raises(FormatError):
        read_record(path)


def test_wfdb_header_pointing_at_missing_file(tmp_path, partial_record):
    path = write_record(partial_record, tmp_path / "rec.hea")
    (tmp_path / "rec.dat").unlink()
    with pytest.raises(FormatError, match="points at rec.dat, which is missing"):
        read_record(path)


def test_wfdb_malformed_header(tmp_path):
    path = _write(tmp_path, "this is not a header\n", "rec.hea")
    with pytest.raises(FormatError):
        read_record(path)


def test_unsupported_suffix_and_missing_file(tmp_path):
    with pytest.raises(UnsupportedFormatError, match="unsupported record type '.xyz'"):
        read_record(tmp_path / "rec.xyz")
    with pytest.raises(FileNotFoundError):
        read_record(tmp_path / "nope.csv")
    with pytest.raises(UnsupportedFormatError):
        write_record(EcgRecord(np.zeros((12, 10))), tmp_path / "out.txt")


def test_json_malformed(tmp_path):
    with pytest.raises(FormatError, match="not valid JSON"):
        read_record(_write(tmp_path, "{", "rec.json"))
    with pytest.raises(FormatError, match="not an ecgscreen.record"):
        read_record(_write(tmp_path, '{"a": 1}', "rec.json"))


# --- property: the CSV reader never fails with anything but a clear input error --------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_csv_reader_fuzz_only_raises_input_errors(tmp_path, text):
    path = tmp_path / "fuzz.csv"
    path.write_text("time_s,I,II\n" + text, encoding="utf-8")
    try:
        record = read_record(path)
    except EcgInputError:
        return
    assert record.signals.shape[0] == 12
