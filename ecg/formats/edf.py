"""EDF+ (European Data Format) via pyedflib.

Each lead is one signal with physical dimension ``mV``, 16-bit digital values over ``[-32768, 32767]`` and a
symmetric physical range sized to the lead (0.1 % headroom, rounded outward to 1 µV), so the resolution is
range / 65535 (≈ 0.15 µV for a ±5 mV lead).
EDF has no NaN: samples where a lead was not recorded are written as ``-32768``, the declared digital minimum,
which real values never reach here; on reading, samples at the digital minimum of a ``-32768`` range (missing, or
clipped at the negative rail and so unusable) and samples outside the declared range become NaN.
Reference: Kemp & Olivan, EDF+ (Clin Neurophysiol 2003) and https://www.edfplus.info/specs/edfplus.html.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyedflib

from ecg.errors import FormatError, InvalidRecordError
from ecg.record import LEADS, EcgRecord, lead_name

DIGITAL_MAX = 32767
MISSING_DIGITAL = -32768
_UNIT_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "v": 1e3, "nv": 1e-6}


def write_edf(record: EcgRecord, path: str | Path) -> None:
    """Write ``record`` as EDF+ (one data record per second; a partial last second is padded as NaN)."""
    fs = record.fs
    if not float(fs).is_integer():
        raise InvalidRecordError(f"EDF needs an integer sampling rate per 1 s data record, got {fs} Hz")
    n_per_record = int(fs)
    n_records = math.ceil(record.n_samples / n_per_record)
    padded = np.full((len(LEADS), n_records * n_per_record), np.nan)
    padded[:, : record.n_samples] = record.signals
    headers, digital = [], []
    for name, row in zip(LEADS, padded, strict=False):
        finite = row[np.isfinite(row)]
        peak = float(np.max(np.abs(finite))) if finite.size else 1.0
        limit = max(0.5, math.ceil(peak * 1.001 * 1000) / 1000)
        units_per_mv = (DIGITAL_MAX - MISSING_DIGITAL) / (2 * limit)
        dig = np.round((np.nan_to_num(row) + limit) * units_per_mv) + MISSING_DIGITAL
        dig = np.where(np.isfinite(row), np.maximum(dig, MISSING_DIGITAL + 1), MISSING_DIGITAL)
        digital.append(np.clip(dig, MISSING_DIGITAL, DIGITAL_MAX).astype(np.int32))
        headers.append(
            {
                "label": name,
                "dimension": "mV",
                "sample_frequency": fs,
                "physical_max": limit,
                "physical_min": -limit,
                "digital_max": DIGITAL_MAX,
                "digital_min": MISSING_DIGITAL,
                "transducer": "",
                "prefilter": str(record.meta.get("prefilter", "")),
            }
        )
    writer = pyedflib.EdfWriter(str(path), len(LEADS), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setSignalHeaders(headers)
        writer.writeSamples(digital, digital=True)
    finally:
        writer.close()


def read_edf(path: str | Path) -> EcgRecord:
    """Read an EDF/EDF+ file; signals whose labels are not ECG leads (annotations, SpO2 …) are ignored."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise FormatError(f"{path.name}: the file is empty")
    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        reason = str(exc).replace(str(path), path.name).strip() or "bad header"  # never echo server paths
        raise FormatError(f"{path.name}: not a readable EDF file ({reason})") from None
    try:
        if not reader.datarecord_duration > 0:  # pyedflib would divide by it for every sampling rate
            raise FormatError(f"{path.name}: the header declares a data record duration of 0 s")
        leads: dict[str, np.ndarray] = {}
        rates = set()
        for i, raw_label in enumerate(reader.getSignalLabels()):
            name = lead_name(_strip_modality(raw_label))
            if name is None or name in leads:
                continue
            header = reader.getSignalHeader(i)
            scale = _UNIT_TO_MV.get(str(header["dimension"]).strip().lower().replace("μ", "µ"))
            if scale is None:
                raise FormatError(f"{path.name}: lead {name} has unit {header['dimension']!r}; expected mV or µV")
            p_min, p_max = float(header["physical_min"]), float(header["physical_max"])
            d_min, d_max = int(header["digital_min"]), int(header["digital_max"])
            if p_max == p_min or d_max <= d_min:
                raise FormatError(f"{path.name}: lead {name} has an empty physical or digital range")
            digital = reader.readSignal(i, digital=True).astype(np.float64)
            values = p_min + (digital - d_min) * (p_max - p_min) / (d_max - d_min)
            invalid = (digital < d_min) | (digital > d_max)
            if d_min == MISSING_DIGITAL:
                invalid |= digital == MISSING_DIGITAL
            values[invalid] = np.nan
            leads[name] = values * scale
            rates.add(float(reader.getSampleFrequency(i)))
    finally:
        reader.close()
    if not leads:
        raise FormatError(f"{path.name}: no ECG lead signals found (labels must name leads such as I, II, V1)")
    if len(rates) != 1:
        raise FormatError(f"{path.name}: leads have different sampling rates {sorted(rates)}")
    lengths = {len(v) for v in leads.values()}
    if len(lengths) != 1:
        raise FormatError(f"{path.name}: leads have different lengths {sorted(lengths)}")
    meta = {"source": str(path), "format": "edf", "units": "mV"}
    try:
        return EcgRecord.from_leads(leads, rates.pop(), meta)
    except InvalidRecordError as exc:
        raise InvalidRecordError(f"{path.name}: {exc}") from None


def _strip_modality(label: str) -> str:
    text = label.strip()
    for prefix in ("ECG", "EKG"):
        if text.upper().startswith(prefix):
            text = text[len(prefix) :]
    return text.strip(" :-_")
