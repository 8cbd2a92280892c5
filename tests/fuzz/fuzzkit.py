"""Shared pieces of the fuzz tests: the Hypothesis profiles, a per-target tally of inputs tried, a hang guard, byte
mutation strategies and the `EcgRecord` contract check.

Imported by name (the test modules put this folder on ``sys.path``), so `TALLY` is one object per process and
``bench/fuzz.py`` can read how many inputs each property tried.
"""

from __future__ import annotations

import functools
import os
import signal
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ecg.io import read_record, write_record
from ecg.record import LEADS, MAX_FS, MIN_FS, EcgRecord

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"

PROFILE_ENV = "ECGSCREEN_FUZZ_PROFILE"
"""Environment variable naming the Hypothesis profile: ``ci`` (default, bounded) or ``long`` (``bench/fuzz.py``)."""

CI_EXAMPLES = 100
"""Examples per unit of weight in the ``ci`` profile (see :func:`examples`)."""

LONG_EXAMPLES = 100
"""Examples per unit of weight per call in the ``long`` profile (the bench calls each property repeatedly)."""

HANG_LIMIT_S = 30.0
"""One input taking longer than this (wall seconds) counts as a hang."""

_COMMON = dict(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile("ci", max_examples=CI_EXAMPLES, **_COMMON)
settings.register_profile("long", max_examples=LONG_EXAMPLES, **_COMMON)

TALLY: Counter[str] = Counter()
"""Inputs tried per fuzz target (property name), counted inside each property body."""


def profile_name() -> str:
    name = os.environ.get(PROFILE_ENV, "ci")
    if name not in ("ci", "long"):
        raise ValueError(f"{PROFILE_ENV}={name!r}; use ci or long")
    return name


def examples(weight: float) -> settings:
    """Settings for one property: the active profile with ``weight`` × its example count (at least 5)."""
    profile = settings.get_profile(profile_name())
    return settings(profile, max_examples=max(5, round(profile.max_examples * weight)))


class HangError(AssertionError):
    """An input took longer than :data:`HANG_LIMIT_S` (a hang is a failure, not an input error)."""


@contextmanager
def time_limit(seconds: float = HANG_LIMIT_S) -> Iterator[None]:
    """Raise `HangError` in the main thread when the body runs longer than ``seconds`` (no-op off the main thread)."""
    try:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
    except ValueError:  # not the main thread: no alarm available
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _on_alarm(signum, frame) -> None:
    raise HangError(f"input still running after {HANG_LIMIT_S:g} s")


def assert_valid_record(record: object) -> None:
    """What every successful read must return: the `EcgRecord` contract (DESIGN.md)."""
    assert isinstance(record, EcgRecord)
    sig = record.signals
    assert sig.dtype == np.float32 and sig.ndim == 2 and sig.shape[0] == len(LEADS) and sig.shape[1] >= 2
    assert not np.isinf(sig).any() and np.isfinite(sig).any()
    assert MIN_FS <= record.fs <= MAX_FS


# --- byte mutations -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """A fixed-width text field of a binary header (offset and width in bytes), e.g. EDF's ``number of records``."""

    offset: int
    width: int


FIELD_VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "99999999", "1e9", "-0", "nan", "inf", "0.0001", "", " ", "abc", "+-"]),
    st.integers(-(10**7), 10**8).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
)
"""Replacement text for header fields: boundary numbers, junk and random printable text."""

HEAD_BYTES = 2048
"""Half of the edits land in a file's first bytes, where the headers are."""

JUNK = st.one_of(
    st.binary(min_size=1, max_size=64),
    st.sampled_from([b"\x00" * 16, b"\xff" * 16, b"\n", b"\r\n", b",", b",,,,", b"nan", b"inf", b"-1e400", b'"']),
)


Edit = tuple[str, int, object]
"""One edit of a file: ``(kind, position, argument)``; small, so a failing example prints readably."""


@st.composite
def edits(draw: st.DrawFn, size: int, fields: Sequence[Field] = ()) -> list[Edit]:
    """1–4 random edits of a ``size``-byte file: truncate, flip bits, insert junk, delete or repeat a span, overwrite
    a header field with a boundary or junk value (fields keep their width, as a real writer's bug would)."""
    kinds = ["truncate", "flip", "insert", "delete", "repeat"] + (["field"] * 3 if fields else [])
    out: list[Edit] = []
    last = max(0, size - 1)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(kinds))
        pos = draw(st.integers(0, min(last, HEAD_BYTES)) | st.integers(0, last))  # headers are in the first bytes
        if kind == "flip":
            arg: object = draw(st.integers(1, 255))
        elif kind == "insert":
            arg = draw(JUNK)
        elif kind in ("delete", "repeat"):
            arg = (draw(st.integers(1, 512)), draw(st.integers(1, 4)))
        elif kind == "field":
            pos = draw(st.integers(0, len(fields) - 1))
            arg = draw(FIELD_VALUES)
        else:
            arg = None
        out.append((kind, pos, arg))
    return out


def apply_edits(data: bytes, changes: Sequence[Edit], fields: Sequence[Field] = ()) -> bytes:
    """``data`` after ``changes`` (positions beyond the end of an already shortened file are clamped)."""
    out = bytearray(data)
    for kind, pos, arg in changes:
        at = min(pos, max(0, len(out) - 1)) if kind != "field" else pos
        if kind == "truncate":
            del out[at:]
        elif kind == "flip" and out:
            out[at] ^= int(arg)
        elif kind == "insert":
            out[at:at] = bytes(arg)
        elif kind == "delete":
            del out[at : at + arg[0]]
        elif kind == "repeat":
            out[at:at] = bytes(out[at : at + arg[0]]) * arg[1]
        elif kind == "field":
            field = fields[pos]
            if field.offset + field.width <= len(out):
                text = str(arg).encode("ascii", "replace")[: field.width].ljust(field.width)
                out[field.offset : field.offset + field.width] = text
    return bytes(out)


# --- seed files ---------------------------------------------------------------------------------------------------
@functools.cache
def seed_records() -> tuple[EcgRecord, ...]:
    """Valid records the mutations start from: a 1 s PTB-XL excerpt, a 3-lead 250 Hz record with NaN gaps, and a
    whole 10 s PTB-XL record (LBBB with bigeminy), long enough to be measured when it reaches the analysis."""
    ptbxl = read_record(SAMPLES / "ptbxl-00001.hea")
    full = EcgRecord(ptbxl.signals[:, :500], 500.0)
    sparse = np.full((12, 300), np.nan, dtype=np.float32)
    sparse[[1, 6, 11]] = ptbxl.signals[[1, 6, 11], :600:2]
    sparse[6, 100:150] = np.nan
    return full, EcgRecord(sparse, 250.0), EcgRecord(read_record(SAMPLES / "ptbxl-00256.hea").signals, 500.0)


@functools.cache
def seed_files(suffix: str) -> tuple[dict[str, bytes], ...]:
    """The seed records written in one format: one ``{file suffix: bytes}`` per record (WFDB has .hea and .dat)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for record in seed_records():
            write_record(record, Path(tmp) / f"rec{suffix}")
            out.append({p.suffix: p.read_bytes() for p in Path(tmp).iterdir()})
            for p in Path(tmp).iterdir():
                p.unlink()
    if suffix == ".hea":
        out.append(
            {s: (SAMPLES / f"ptbxl-00001{s}").read_bytes().replace(b"ptbxl-00001", b"rec") for s in (".hea", ".dat")}
        )
    return tuple(out)


def edf_fields(data: bytes) -> list[Field]:
    """The numeric and label fields of an EDF header (https://www.edfplus.info/specs/edf.html)."""
    fields = [Field(184, 8), Field(236, 8), Field(244, 8), Field(252, 4), Field(0, 8), Field(192, 44)]
    try:
        ns = int(data[252:256])
    except ValueError:
        return fields
    widths = [
        ("label", 16),
        ("transducer", 80),
        ("dimension", 8),
        ("pmin", 8),
        ("pmax", 8),
        ("dmin", 8),
        ("dmax", 8),
        ("prefilter", 80),
        ("samples", 8),
        ("reserved", 32),
    ]
    offset = 256
    for name, width in widths:
        if name not in ("transducer", "prefilter", "reserved"):
            fields += [Field(offset + i * width, width) for i in range(ns)]
        offset += width * ns
    return fields
