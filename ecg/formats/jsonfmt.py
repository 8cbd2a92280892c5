"""JSON form of a record: ``{"format": "ecgscreen.record", "version": 1, "fs": Hz, "units": "mV",
"leads": {name: [mV or null, ...]}, "meta": {...}}``. Values are float32 printed exactly, so round trips are lossless.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ecg.errors import FormatError, InvalidRecordError
from ecg.record import LEADS, EcgRecord

FORMAT_NAME = "ecgscreen.record"
FORMAT_VERSION = 1


def record_to_dict(record: EcgRecord) -> dict[str, Any]:
    """The JSON-ready dict of ``record`` (NaN → ``null``)."""
    leads = {
        name: [None if math.isnan(v) else v for v in row.astype(np.float64).tolist()]
        for name, row in zip(LEADS, record.signals, strict=False)
    }
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "fs": record.fs,
        "units": "mV",
        "leads": leads,
        "meta": record.meta,
    }


def record_from_dict(data: Any, source: str = "record") -> EcgRecord:
    """Inverse of :func:`record_to_dict`, with clear errors for malformed input."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise FormatError(f"{source}: not an {FORMAT_NAME} JSON document")
    if data.get("version") != FORMAT_VERSION:
        raise FormatError(f"{source}: unsupported version {data.get('version')!r}; this reader knows {FORMAT_VERSION}")
    if data.get("units", "mV") != "mV":
        raise FormatError(f"{source}: units must be mV, got {data.get('units')!r}")
    leads = data.get("leads")
    if not isinstance(leads, dict) or not leads:
        raise FormatError(f"{source}: 'leads' must map lead names to sample lists")
    arrays = {}
    for name, values in leads.items():
        if not isinstance(values, list):
            raise FormatError(f"{source}: lead {name!r} must be a list of numbers")
        try:
            arrays[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        except (TypeError, ValueError):
            raise FormatError(f"{source}: lead {name!r} holds a value that is not a number") from None
    fs = data.get("fs")
    if not isinstance(fs, (int, float)):
        raise FormatError(f"{source}: 'fs' (Hz) is missing or not a number")
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        raise FormatError(f"{source}: 'meta' must be an object")
    try:
        return EcgRecord.from_leads(arrays, float(fs), meta)
    except InvalidRecordError as exc:
        raise InvalidRecordError(f"{source}: {exc}") from None


def write_json_record(record: EcgRecord, path: str | Path) -> None:
    Path(path).write_text(json.dumps(record_to_dict(record), allow_nan=False, default=str), encoding="utf-8")


def read_json_record(path: str | Path) -> EcgRecord:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path.name}: not valid JSON ({exc.__class__.__name__})") from None
    record = record_from_dict(data, path.name)
    return record.with_meta(source=str(path), format="json")
