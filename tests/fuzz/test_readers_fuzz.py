"""Property tests of the record readers (CSV, EDF+, WFDB, JSON through `ecg.io`).

(a) Round trip: any valid `EcgRecord` (random lead subset, sampling rate, length, amplitude and NaN gaps) written
    and read back equals the original within the format's resolution.
(b) Robustness: valid files mutated (truncated, bit-flipped, junk inserted, spans deleted or repeated, header
    fields overwritten) either read to a valid `EcgRecord` or raise an `EcgInputError` subclass: never another
    exception and never a hang.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzzkit import (  # noqa: E402
    FIELD_VALUES,
    TALLY,
    Field,
    apply_edits,
    assert_valid_record,
    edf_fields,
    edits,
    examples,
    seed_files,
    time_limit,
)

from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import read_record, write_record  # noqa: E402
from ecg.record import LEADS, EcgRecord  # noqa: E402

MAX_ABS_MV = 29.0
"""Largest amplitude generated (mV); the contract refuses a 99th percentile above 30 mV."""


# --- strategies ---------------------------------------------------------------------------------------------------
@st.composite
def records(draw: st.DrawFn, fs: st.SearchStrategy[float]) -> EcgRecord:
    """A valid record: 1–12 recorded leads, 2–3000 samples, noise up to ±29 mV, NaN gaps, a few exact values."""
    rate = draw(fs)
    n = draw(st.integers(2, 3000))
    present = draw(st.sets(st.integers(0, 11), min_size=1))
    amplitude = draw(st.sampled_from([1e-3, 0.05, 0.5, 2.0, 8.0, MAX_ABS_MV]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sig = np.full((len(LEADS), n), np.nan)
    for i in present:
        sig[i] = np.clip(rng.normal(0, amplitude / 3, n), -amplitude, amplitude)
    exact = st.floats(-MAX_ABS_MV, MAX_ABS_MV, allow_subnormal=False)
    for lead, at, value in draw(
        st.lists(st.tuples(st.sampled_from(sorted(present)), st.integers(0, n - 1), exact), max_size=4)
    ):
        sig[lead, at] = value
    for lead, start, length in draw(
        st.lists(st.tuples(st.integers(0, 11), st.integers(0, n - 1), st.integers(1, n)), max_size=4)
    ):
        sig[lead, start : start + length] = np.nan
    if not np.isfinite(sig).any():
        sig[min(present), 0] = 0.0
    return EcgRecord(sig.astype(np.float32), rate)


INTEGER_FS = st.integers(50, 2000).map(float)
MILLI_HZ_FS = st.integers(50_000, 5_000_000).map(lambda mhz: mhz / 1000)  # 50–5000 Hz with up to 3 decimals


def _round_trip(record: EcgRecord, suffix: str) -> EcgRecord:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_record(record, Path(tmp) / f"rec{suffix}")
        back = read_record(path)
    assert_valid_record(back)
    return back


def _assert_values_close(back: np.ndarray, original: np.ndarray, step_mv: np.ndarray | float) -> None:
    """Same NaN layout; finite values within half a quantisation step (per lead) plus float32 rounding."""
    assert np.array_equal(np.isnan(back), np.isnan(original))
    ulp = np.spacing(np.float32(MAX_ABS_MV))
    tolerance = np.broadcast_to(np.asarray(step_mv, dtype=np.float64).reshape(-1, 1) / 2 + 2 * ulp, original.shape)
    finite = np.isfinite(original)
    err = np.abs(back.astype(np.float64) - original.astype(np.float64))
    assert (err[finite] <= tolerance[finite]).all(), f"largest error {err[finite].max():.3g} mV"


def _peak_per_lead(signals: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(signals), np.abs(signals), 0.0)
    return finite.max(axis=1)


# --- (a) round trips ----------------------------------------------------------------------------------------------
@pytest.mark.slow
@examples(1.0)
@given(records(MILLI_HZ_FS))
@example(EcgRecord(np.where(np.arange(12)[:, None] < 2, np.linspace(-1, 1, 3600), np.nan).astype(np.float32), 360.0))
@example(EcgRecord(np.where(np.arange(12)[:, None] < 3, np.linspace(-1, 1, 50), np.nan).astype(np.float32), 333.3))
@example(EcgRecord(np.where(np.arange(12)[:, None] < 1, [[0.0, 0.0]], np.nan).astype(np.float32), 729.533))
def test_csv_round_trip(record):
    """Regression examples: 360 Hz read back as 359.971 Hz, 333.3 Hz as 333.333 Hz (rate from one rounded step)."""
    TALLY["csv round trip"] += 1
    back = _round_trip(record, ".csv")
    # time_s has 6 decimals: the span of n samples is known to ±1 µs, and the reader may pick the simplest rate
    # that reproduces every stamp (another ±1 µs over the span). That is the format's rate resolution.
    fs_tolerance = record.fs**2 * 2e-6 / (record.n_samples - 1) + 1e-6 * record.fs
    assert abs(back.fs - record.fs) <= fs_tolerance, (back.fs, record.fs)
    assert back.n_samples == record.n_samples
    _assert_values_close(back.signals, record.signals, 1e-4)


@examples(0.6)
@given(records(INTEGER_FS))
def test_edf_round_trip(record):
    TALLY["edf round trip"] += 1
    back = _round_trip(record, ".edf")
    assert back.fs == record.fs
    # One data record per second: a partial last second is padded with NaN (documented in ecg/formats/edf.py).
    assert back.n_samples == math.ceil(record.n_samples / record.fs) * int(record.fs)
    assert np.isnan(back.signals[:, record.n_samples :]).all()
    limit = np.maximum(0.5, _peak_per_lead(record.signals) * 1.001 + 1e-3)
    _assert_values_close(back.signals[:, : record.n_samples], record.signals, 2 * limit / 65535)


@examples(0.6)
@given(records(MILLI_HZ_FS))
def test_wfdb_round_trip(record):
    TALLY["wfdb round trip"] += 1
    back = _round_trip(record, ".hea")
    assert abs(back.fs - record.fs) <= 1e-9 * record.fs
    assert back.n_samples == record.n_samples
    gain = np.minimum(1000.0, np.floor(32000.0 / np.maximum(_peak_per_lead(record.signals), 1e-6)))
    _assert_values_close(back.signals, record.signals, 1.0 / gain)


@examples(0.5)
@given(records(MILLI_HZ_FS))
def test_json_round_trip(record):
    TALLY["json round trip"] += 1
    back = _round_trip(record, ".json")
    assert back.fs == record.fs
    _assert_values_close(back.signals, record.signals, 0.0)


# --- (b) robustness on mutated files ------------------------------------------------------------------------------
def _read_or_refuse(folder: Path, name: str, resample: bool, target: str) -> None:
    """The oracle: a valid record or an `EcgInputError`, within the hang limit (outcomes tallied per target)."""
    TALLY[target] += 1
    with time_limit():
        try:
            record = read_record(folder / name, fs=500.0 if resample else None)
        except EcgInputError as exc:
            assert str(exc).strip(), "an input error needs a message"
            TALLY[f"{target}: refused"] += 1
            return
    assert_valid_record(record)
    TALLY[f"{target}: read"] += 1


TOKENS = st.one_of(
    FIELD_VALUES, st.sampled_from("AVR|Lead II|v1|D2|time_s|sample|I|mV|uV|V|16|212|0|rec.dat|../rec.dat|x".split("|"))
)
"""Replacement tokens for text files: lead aliases, header words, WFDB formats and file names, boundary values."""


@st.composite
def text_edits(draw: st.DrawFn, n_lines: int) -> tuple[list[tuple[str, int, int, str]], str]:
    """Token-level edits of a text file (replace or append a token, drop or duplicate a line) and a line ending."""
    changes = [
        (
            draw(st.sampled_from(["token", "token", "drop", "duplicate", "append"])),
            draw(st.integers(0, min(n_lines - 1, 20)) | st.integers(0, n_lines - 1)),
            draw(st.integers(0, 20)),
            draw(TOKENS),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    return changes, draw(st.sampled_from(["\n", "\r\n", "\r"]))


def apply_text_edits(text: str, changes: tuple[list[tuple[str, int, int, str]], str], separator: str) -> bytes:
    lines = text.split("\n")
    edits_, newline = changes
    for action, line, column, token in edits_:
        i = min(line, len(lines) - 1)
        if action == "token":
            parts = lines[i].replace("\t", " ").split(separator)
            parts[column % len(parts)] = token
            lines[i] = separator.join(parts)
        elif action == "drop" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "append":
            lines[i] += separator + token
    return newline.join(lines).encode("utf-8", "surrogatepass")


def _mutate(data: st.DataObject, suffix: str, part: str, separator: str | None) -> dict[str, bytes]:
    """A seed file set of one format with one part (``.csv``, ``.hea`` …) edited as text or as bytes."""
    index = data.draw(st.integers(0, len(seed_files(suffix)) - 1), label="seed")
    files = dict(seed_files(suffix)[index])
    if separator is not None and data.draw(st.booleans(), label="as text"):
        text = files[part].decode()
        files[part] = apply_text_edits(text, data.draw(text_edits(text.count("\n") + 1)), separator)
    else:
        fields = edf_fields(files[part]) if part == ".edf" else []
        files[part] = apply_edits(files[part], data.draw(edits(len(files[part]), fields)), fields)
    return files


def _write_and_read(files: dict[str, bytes], name: str, resample: bool, target: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, content in files.items():
            Path(tmp, f"rec{suffix}").write_bytes(content)
        _read_or_refuse(Path(tmp), name, resample, target)


@examples(1.0)
@given(st.data())
def test_mutated_csv_reads_or_refuses(data):
    files = _mutate(data, ".csv", ".csv", ",")
    _write_and_read(files, "rec.csv", data.draw(st.booleans(), label="resample"), "csv mutated")


@examples(1.0)
@given(st.data())
def test_mutated_edf_reads_or_refuses(data):
    files = _mutate(data, ".edf", ".edf", None)
    _write_and_read(files, "rec.edf", data.draw(st.booleans(), label="resample"), "edf mutated")


@examples(1.0)
@given(st.data())
def test_mutated_wfdb_reads_or_refuses(data):
    """Header (as text or bytes), signal file, or both."""
    part = data.draw(st.sampled_from([".hea", ".dat"]), label="part")
    files = _mutate(data, ".hea", part, " " if part == ".hea" else None)
    if part == ".hea" and data.draw(st.booleans(), label="edit the signal file too"):
        files[".dat"] = apply_edits(files[".dat"], data.draw(edits(len(files[".dat"]))))
    _write_and_read(files, "rec.hea", data.draw(st.booleans(), label="resample"), "wfdb mutated")


@examples(0.5)
@given(st.data())
def test_mutated_json_reads_or_refuses(data):
    files = _mutate(data, ".json", ".json", ",")
    _write_and_read(files, "rec.json", data.draw(st.booleans(), label="resample"), "json mutated")


# --- regressions ----------------------------------------------------------------------------------------------------
def test_csv_time_step_too_small_for_a_rate_is_refused(tmp_path):
    """Guards the span-based rate of the CSV reader: a denormal time step overflows 1/step."""
    path = tmp_path / "rec.csv"
    path.write_text("time_s,I\n0,0.1\n5e-324,0.2\n1e-323,0.3\n", encoding="utf-8")
    try:
        read_record(path)
    except EcgInputError as exc:
        assert "time" in str(exc) or "Hz" in str(exc)
    else:
        raise AssertionError("expected a refusal")


def test_edf_with_zero_record_duration_is_refused(tmp_path):
    """Found by bench/fuzz.py: an EDF header whose data-record duration is "0" made pyedflib divide by zero."""
    seed = seed_files(".edf")[0][".edf"]
    fields = edf_fields(seed)
    path = tmp_path / "rec.edf"
    path.write_bytes(apply_edits(seed, [("field", 2, "0")], fields))
    assert fields[2] == Field(244, 8)  # "duration of a data record, in seconds"
    try:
        read_record(path)
    except EcgInputError as exc:
        assert "duration" in str(exc)
    else:
        raise AssertionError("expected a refusal")
