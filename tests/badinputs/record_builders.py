"""Builders of the signal-record cases (CSV, EDF, JSON, WFDB) made from the bundled sample record.

Each has the signature ``build(folder) -> Path``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from builders import RECORD, Builder, sample_record, text

from ecg.io import write_record
from ecg.record import EcgRecord


# --- signal records -----------------------------------------------------------------------------------------------
def sample_csv_text() -> str:
    """The sample record in the CSV contract (``time_s,I,…,V6``)."""
    return _record_text(sample_record(), ".csv")


def _record_text(record: EcgRecord, suffix: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        return write_record(record, Path(tmp) / f"r{suffix}").read_text(encoding="utf-8")


def csv_edit(
    name: str, edit: Callable[[list[list[str]]], list[list[str]]], *, sep: str = ",", encoding: str = "utf-8"
) -> Builder:
    """The sample CSV, rows split into cells, passed through ``edit`` and written back."""

    def build(folder: Path) -> Path:
        rows = [line.split(",") for line in sample_csv_text().splitlines()]
        rows = edit(rows)
        path = folder / name
        path.write_bytes(("\n".join(sep.join(r) for r in rows) + "\n").encode(encoding))
        return path

    return build


def keep_columns(*names: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        index = [rows[0].index(n) for n in names]
        return [[r[i] for i in index] for r in rows]

    return edit


def add_column(name: str, value: str) -> Callable[[list[list[str]]], list[list[str]]]:
    return lambda rows: [rows[0] + [name]] + [r + [value] for r in rows[1:]]


def rename_header(mapping: dict[str, str]) -> Callable[[list[list[str]]], list[list[str]]]:
    return lambda rows: [[mapping.get(c, c) for c in rows[0]]] + rows[1:]


def set_cell(row: int, column: str, value: str) -> Callable[[list[list[str]]], list[list[str]]]:
    """Replace one data cell (``row`` counts data rows from 1)."""

    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[row][rows[0].index(column)] = value
        return rows

    return edit


def decimal_commas(rows: list[list[str]]) -> list[list[str]]:
    return [rows[0]] + [[c.replace(".", ",") for c in r] for r in rows[1:]]


def record_file(name: str, make: Callable[[], EcgRecord]) -> Builder:
    def build(folder: Path) -> Path:
        return write_record(make(), folder / name)

    return build


def first_seconds(seconds: float) -> EcgRecord:
    rec = sample_record()
    return EcgRecord(rec.signals[:, : int(seconds * rec.fs)], rec.fs, dict(rec.meta))


def resampled(fs: float) -> EcgRecord:
    from scipy.signal import resample_poly

    rec = sample_record()
    up, down = int(fs), int(rec.fs)
    divisor = np.gcd(up, down)
    signals = resample_poly(rec.signals, up // divisor, down // divisor, axis=1).astype(np.float32)
    return EcgRecord(signals, fs, dict(rec.meta))


def edf_patched(name: str, **fields: str) -> Builder:
    """The sample as EDF+ with header fields overwritten for every signal (``physical_min`` etc.) or the
    record count (``records``); ``drop_data=True`` also removes the data records."""
    layout = {
        "physical_min": (104, 8),
        "physical_max": (112, 8),
        "digital_min": (120, 8),
        "digital_max": (128, 8),
        "dimension": (96, 8),
    }

    def build(folder: Path) -> Path:
        path = write_record(sample_record(), folder / name)
        data = bytearray(path.read_bytes())
        header_bytes, n_signals = int(data[184:192]), int(data[252:256])
        for key, value in fields.items():
            if key == "records":
                data[236:244] = value.ljust(8).encode()
                continue
            if key == "drop_data":
                del data[header_bytes:]
                continue
            offset, width = layout[key]
            for k in range(n_signals):
                start = 256 + offset * n_signals + k * width
                data[start : start + width] = value.ljust(width).encode()
        path.write_bytes(bytes(data))
        return path

    return build


def json_record(name: str, payload: object) -> Builder:
    return text(name, json.dumps(payload))


def json_sample_with(**changes: object) -> Builder:
    """The sample as a JSON record with top-level fields replaced."""

    def build(folder: Path) -> Path:
        doc = json.loads(_record_text(sample_record(), ".json"))
        doc.update(changes)
        path = folder / "record.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    return build


def wfdb_header_only(folder: Path) -> Path:
    """A WFDB header whose signal file (``.dat``) is not beside it."""
    path = folder / RECORD.name
    shutil.copy(RECORD, path)
    return path
