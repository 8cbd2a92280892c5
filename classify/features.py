"""Waveform features of one record for :mod:`classify.waveform`: a fixed, versioned vector built from
:func:`analyze.measure`'s output (``NaN`` where a value is missing).

The order is part of the shipped model's contract: :data:`FEATURE_VERSION` and :data:`FEATURE_NAMES` are written into
the manifest entry of ``models/waveform.onnx`` and checked when it is opened. Change the list → bump the version and
retrain.

========================  =====  =============================================================================
group                     count  values
========================  =====  =============================================================================
global intervals / axes    11    :data:`analyze.measure.INTERVAL_KEYS` (ms, bpm, degrees)
axes as sin/cos             6    P, QRS, T axes (an axis of 179° and one of −179° are neighbours)
rhythm                      6    RR irregularity, P present, P consistency, beats, dominant beats, ectopic share
confidences                 4    of heart rate, QRS, PR and QRS axis (0–1, :func:`analyze.measure` heuristics)
derived                     4    Sokolow–Lyon (SV1 + max RV5/RV6), Cornell (RaVL + SV3), QRS–T angle, max |ST|
per lead (× 12)            10    Q, R, S, R′, QRS p-p, P, T, ST (mV), R peak time, S duration (ms)
recorded share (× 12)       1    share of the record's duration each lead holds a finite sample (0–1)
========================  =====  =============================================================================

A record that cannot be measured gives ``NaN`` everywhere except the recorded shares: the trees were trained with
such rows and route missing values on their own.
"""

from __future__ import annotations

import math

import numpy as np

from analyze.measure import INTERVAL_KEYS, Measurements
from ecg.record import LEADS, EcgRecord

FEATURE_VERSION = "waveform-features-1"
LEAD_KEYS: tuple[str, ...] = (
    "q_mv", "r_mv", "s_mv", "r_prime_mv", "qrs_pp_mv", "p_mv", "t_mv", "st_mv", "r_peak_time_ms", "s_duration_ms",
)
_AXES = ("p_axis_deg", "qrs_axis_deg", "t_axis_deg")
_RHYTHM = ("rr_irregularity", "p_wave_present", "p_wave_consistency", "beat_count", "dominant_beat_count",
           "ectopic_share")
_CONFIDENCE = ("heart_rate_bpm", "qrs_ms", "pr_ms", "qrs_axis_deg")
_DERIVED = ("sokolow_lyon_mv", "cornell_mv", "qrs_t_angle_deg", "max_abs_st_mv")

FEATURE_NAMES: tuple[str, ...] = (
    *INTERVAL_KEYS,
    *(f"{a}_{f}" for a in _AXES for f in ("sin", "cos")),
    *_RHYTHM,
    *(f"confidence_{k}" for k in _CONFIDENCE),
    *_DERIVED,
    *(f"{lead}_{k}" for lead in LEADS for k in LEAD_KEYS),
    *(f"{lead}_recorded" for lead in LEADS),
)
"""Column order of the feature vector (175 values)."""


def recorded_share(record: EcgRecord) -> np.ndarray:
    """Share (0–1) of the record's samples that are finite, per lead in :data:`ecg.record.LEADS` order."""
    if record.signals.shape[1] == 0:
        return np.zeros(len(LEADS), dtype=np.float32)
    return np.isfinite(record.signals).mean(axis=1).astype(np.float32)


def record_features(record: EcgRecord, measurements: Measurements | None) -> np.ndarray:
    """Feature vector ``(len(FEATURE_NAMES),)`` float32 of a record and its measurements (``None``: not measurable)."""
    values = dict.fromkeys(FEATURE_NAMES, math.nan)
    for lead, share in zip(LEADS, recorded_share(record), strict=True):
        values[f"{lead}_recorded"] = float(share)
    if measurements is not None:
        values.update(_measured(measurements))
    return np.array([_num(values[name]) for name in FEATURE_NAMES], dtype=np.float32)


def feature_matrix(rows: list[np.ndarray]) -> np.ndarray:
    """Stack feature vectors into ``(n, len(FEATURE_NAMES))`` float32 (an empty list gives zero rows)."""
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    return np.vstack(rows).astype(np.float32)


def _measured(m: Measurements) -> dict[str, float]:
    out: dict[str, float] = {k: _num(getattr(m, k)) for k in INTERVAL_KEYS}
    for axis in _AXES:
        deg = getattr(m, axis)
        out[f"{axis}_sin"] = math.sin(math.radians(deg)) if deg is not None else math.nan
        out[f"{axis}_cos"] = math.cos(math.radians(deg)) if deg is not None else math.nan
    out["rr_irregularity"] = _num(m.rr_irregularity)
    out["p_wave_present"] = _num(m.p_wave_present)
    out["p_wave_consistency"] = _num(m.p_wave_consistency)
    out["beat_count"] = float(m.beat_count)
    out["dominant_beat_count"] = float(m.dominant_beat_count)
    out["ectopic_share"] = 1.0 - m.dominant_beat_count / m.beat_count if m.beat_count else math.nan
    for key in _CONFIDENCE:
        out[f"confidence_{key}"] = _num(m.confidence.get(key))
    for lead in LEADS:
        morph = m.leads.get(lead)
        for key in LEAD_KEYS:
            out[f"{lead}_{key}"] = _num(getattr(morph, key)) if morph is not None else math.nan
    out.update(_derived(m, out))
    return out


def _derived(m: Measurements, v: dict[str, float]) -> dict[str, float]:
    """Voltage criteria and the QRS–T angle: combinations the trees would need many splits to find."""
    rv56 = np.nanmax([v["V5_r_mv"], v["V6_r_mv"]]) if np.isfinite([v["V5_r_mv"], v["V6_r_mv"]]).any() else math.nan
    sokolow = abs(v["V1_s_mv"]) + rv56 if np.isfinite(v["V1_s_mv"]) else math.nan
    cornell = v["aVL_r_mv"] + abs(v["V3_s_mv"])
    angle = math.nan
    if m.qrs_axis_deg is not None and m.t_axis_deg is not None:
        d = abs(m.qrs_axis_deg - m.t_axis_deg) % 360.0
        angle = min(d, 360.0 - d)
    st = [abs(v[f"{lead}_st_mv"]) for lead in LEADS if np.isfinite(v[f"{lead}_st_mv"])]
    return {
        "sokolow_lyon_mv": float(sokolow),
        "cornell_mv": float(cornell),
        "qrs_t_angle_deg": angle,
        "max_abs_st_mv": max(st) if st else math.nan,
    }


def _num(value: object) -> float:
    if value is None:
        return math.nan
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


__all__ = ["FEATURE_NAMES", "FEATURE_VERSION", "LEAD_KEYS", "feature_matrix", "record_features", "recorded_share"]
