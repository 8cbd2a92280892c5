"""Read and write `EcgRecord` files, choosing the format by suffix: ``.csv``, ``.edf``, ``.hea`` (WFDB), ``.json``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ecg.errors import FormatError, UnsupportedFormatError
from ecg.formats.csv import read_csv, write_csv
from ecg.formats.edf import read_edf, write_edf
from ecg.formats.jsonfmt import read_json_record, write_json_record
from ecg.formats.wfdb import read_wfdb, write_wfdb
from ecg.record import EcgRecord

RECORD_SUFFIXES = (".csv", ".edf", ".hea", ".json")
"""Suffixes `read_record` and `write_record` understand (``.dat`` is accepted on reading as its WFDB record)."""

_WRITERS: dict[str, Callable[[EcgRecord, Path], None]] = {
    ".csv": write_csv,
    ".edf": write_edf,
    ".hea": write_wfdb,
    ".json": write_json_record,
}


def record_format(path: str | Path) -> str:
    """The format name (``csv``, ``edf``, ``wfdb``, ``json``) of a record path, or raise UnsupportedFormatError."""
    suffix = Path(path).suffix.lower()
    if suffix in {".hea", ".dat"}:
        return "wfdb"
    if suffix in RECORD_SUFFIXES:
        return suffix[1:]
    raise UnsupportedFormatError(
        f"{Path(path).name}: unsupported record type {suffix or '(no suffix)'!r}; "
        f"use one of {', '.join(RECORD_SUFFIXES)}"
    )


def read_record(path: str | Path, *, fs: float | None = None) -> EcgRecord:
    """Read a record file; with ``fs`` the result is resampled to that rate (Hz).

    Raises
    ------
    FileNotFoundError if the path does not exist; `EcgInputError` subclasses for any unreadable or invalid content.
    """
    path = Path(path)
    kind = record_format(path)
    if kind != "wfdb" and not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    if path.is_dir():
        raise FormatError(f"{path}: is a folder, not a record file")
    if kind == "csv":
        record = read_csv(path)
    elif kind == "edf":
        record = read_edf(path)
    elif kind == "json":
        record = read_json_record(path)
    else:
        record = read_wfdb(path)
    return record.resample(fs) if fs is not None else record


def write_record(record: EcgRecord, path: str | Path) -> Path:
    """Write ``record`` in the format named by ``path``'s suffix; returns the path written (the ``.hea`` for WFDB)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _WRITERS:
        raise UnsupportedFormatError(
            f"{path.name}: cannot write {suffix or '(no suffix)'!r}; use one of {', '.join(RECORD_SUFFIXES)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    _WRITERS[suffix](record, path)
    return path
