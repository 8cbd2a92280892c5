"""WFDB (PhysioNet) records via the `wfdb` package, including FLAC-compressed formats (508/516/524, as in PTB-XL).

A record is named by its header file (``.hea``); the signal files it lists must sit beside it. Written records use
format 16 with a gain of 1000 adu/mV (1 µV resolution) unless a lead's range needs less; NaN is stored as WFDB's
invalid sample value and read back as NaN. ``meta["comments"]`` (a list of strings) travels as header comments.
Reference: https://physionet.org/physiotools/wag/header-5.htm
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wfdb

from ecg.errors import FormatError, InvalidRecordError
from ecg.record import LEADS, EcgRecord, lead_name

_UNIT_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "v": 1e3}
GAIN_ADU_PER_MV = 1000.0


def write_wfdb(record: EcgRecord, path: str | Path) -> None:
    """Write ``record`` as ``<stem>.hea`` + ``<stem>.dat`` (format 16) in ``path``'s folder."""
    path = Path(path)
    sig = record.signals.astype(np.float64)
    peak = np.nanmax(np.abs(sig), axis=1)
    peak = np.where(np.isfinite(peak), peak, 1.0)
    gains = np.minimum(GAIN_ADU_PER_MV, np.floor(32000.0 / np.maximum(peak, 1e-6)))
    wfdb.wrsamp(
        path.stem,
        fs=record.fs,
        units=["mV"] * len(LEADS),
        sig_name=list(LEADS),
        p_signal=sig.T,
        fmt=["16"] * len(LEADS),
        adc_gain=[float(g) for g in gains],
        baseline=[0] * len(LEADS),
        write_dir=str(path.parent),
        comments=[str(c) for c in record.meta.get("comments", [])],
    )


def read_wfdb(path: str | Path) -> EcgRecord:
    """Read a WFDB record from its ``.hea`` path (or the record path without suffix)."""
    path = Path(path)
    base = path.with_suffix("") if path.suffix.lower() in {".hea", ".dat"} else path
    header = base.with_suffix(".hea")
    if not header.exists():
        raise FormatError(f"{header.name}: WFDB header not found")
    try:
        head = wfdb.rdheader(str(base))
    except Exception as exc:  # wfdb raises bare ValueError/IndexError on malformed headers
        raise FormatError(f"{header.name}: not a readable WFDB header ({_first_line(exc)})") from None
    for file_name in sorted(set(head.file_name or [])):
        if not (base.parent / file_name).exists():
            raise FormatError(f"{header.name}: the header points at {file_name}, which is missing")
    try:
        rec = wfdb.rdrecord(str(base))
    except Exception as exc:
        raise FormatError(f"{header.name}: cannot read the signal data ({_first_line(exc)})") from None
    if rec.p_signal is None or rec.fs is None:
        raise FormatError(f"{header.name}: the record has no signals")
    leads: dict[str, np.ndarray] = {}
    for i, raw in enumerate(rec.sig_name):
        name = lead_name(raw)
        if name is None or name in leads:
            continue
        scale = _UNIT_TO_MV.get(str(rec.units[i]).strip().lower().replace("μ", "µ"))
        if scale is None:
            raise FormatError(f"{header.name}: lead {name} has unit {rec.units[i]!r}; expected mV or µV")
        leads[name] = rec.p_signal[:, i] * scale
    if not leads:
        raise FormatError(f"{header.name}: no ECG lead signals (names {', '.join(rec.sig_name)})")
    meta = {"source": str(header), "format": "wfdb", "units": "mV"}
    if rec.comments:
        meta["comments"] = list(rec.comments)
    try:
        return EcgRecord.from_leads(leads, float(rec.fs), meta)
    except InvalidRecordError as exc:
        raise InvalidRecordError(f"{header.name}: {exc}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
