"""Confidence (0–1) of each headline measurement: low where the value may be grossly wrong.

Every measurement starts from what it rests on (the share of the wanted beats and leads) and is then multiplied by
factors that each fall to 0 where a known failure shows:

====  ================================================================================================================
QT    leads with a usable T wave (8 of 12 wanted); the spread between the leads' T ends (IQR 25 → 70 ms: 1 → 0); the
      per-lead and spatial T ends disagreeing (40 → 120 ms: 1 → 0); physiology: QT ≥ 0.9 RR, T end after the next
      P onset, or QTc (Fridericia) outside 300–650 ms caps it at 0.2.
PR    the P wave's height over its surroundings (0.02 → 0.05 mV RMS: 0.3 → 1) and its beat-to-beat consistency
      (0.5 → 0.9: 0.3 → 1); PR outside 80–400 ms caps it at 0.2.
QRS   beats and leads only (no known gross failure mode on LUDB).
rate  beats found (10 or more: 1), times the leads' agreement on the beats of a 3×4 printout: candidates two or more
      leads found but the vote rejected, per beat (0.1 → 0.35: 1 → 0; :attr:`analyze.beats.Beats.contested`).
====  ================================================================================================================

The bands are checked against LUDB errors by ``python bench/measure_ludb.py`` (table "error by confidence band").
"""

from __future__ import annotations

import numpy as np

from analyze.beats import Beats, MedianBeats
from analyze.delineate import Fiducials

QT_MIN_LEADS = 8
QT_SPREAD_MS = (25.0, 70.0)
QT_METHODS_MS = (40.0, 120.0)
QTC_RANGE_MS = (300.0, 650.0)
PR_RANGE_MS = (80.0, 400.0)
P_HEIGHT_MV = (0.02, 0.05)
P_CONSISTENCY = (0.5, 0.9)
BEATS_CONTESTED = (0.1, 0.35)
"""Contested candidates per beat: full rate confidence up to the first, none from the second."""
IMPLAUSIBLE = 0.2
"""Cap on the confidence of a value that fails a physiological check."""


def ramp(x: float, good: float, bad: float) -> float:
    """1 at ``good``, 0 at ``bad``, linear between (either order)."""
    if good == bad:
        return float(x <= good) if bad > 0 else 1.0
    return float(np.clip((x - bad) / (good - bad), 0.0, 1.0))


def confidences(
    values: dict[str, float | None], beats: Beats, median: MedianBeats, fid: Fiducials, rr_s: float,
    p_consistency: float | None,
) -> dict[str, float]:
    """Confidence of every key of ``values`` (0 where the value is ``None``); see the module docstring."""
    n_dominant = int(beats.dominant.sum())
    rhythm = min(1.0, (len(beats.r_peaks) - 1) / 10)
    rhythm *= ramp(beats.contested / max(1, len(beats.r_peaks)), *BEATS_CONTESTED)
    beat_share = min(1.0, n_dominant / 8)
    lead_share = float(np.mean(median.n_beats > 0))
    limb_share = float(np.mean(median.n_beats[:6] > 0))
    base = beat_share * lead_share
    out: dict[str, float] = {}
    for key, value in values.items():
        if value is None:
            out[key] = 0.0
        elif key in ("heart_rate_bpm", "rr_mean_ms", "rr_sdnn_ms"):
            out[key] = rhythm
        elif key.endswith("axis_deg"):
            out[key] = beat_share * limb_share
        else:
            out[key] = base
    if values.get("qt_ms") is not None:
        qt = base * qt_factor(values["qt_ms"], rr_s, fid, median.fs)
        for key in ("qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms"):
            out[key] = qt
    if values.get("pr_ms") is not None:
        out["pr_ms"] = base * pr_factor(values["pr_ms"], fid, p_consistency)
    return out


def qt_factor(qt_ms: float, rr_s: float, fid: Fiducials, fs: float) -> float:
    """QT factor (0–1): usable T leads, inter-lead spread, method agreement, physiological checks."""
    q = fid.quality
    factor = min(1.0, q.get("t_leads", 0.0) / QT_MIN_LEADS)
    if "t_spread_ms" in q:
        factor *= ramp(q["t_spread_ms"], *QT_SPREAD_MS)
    else:  # the per-lead method failed: the spatial T end alone
        factor *= 0.5
    if "t_methods_ms" in q:
        factor *= ramp(abs(q["t_methods_ms"]), *QT_METHODS_MS)
    qtc = qt_ms / np.cbrt(rr_s)
    next_p = fid.p_on + rr_s * fs if fid.p_on is not None else None
    if qt_ms >= 900 * rr_s or not QTC_RANGE_MS[0] <= qtc <= QTC_RANGE_MS[1] or (
        next_p is not None and fid.t_off is not None and fid.t_off >= next_p
    ):
        factor = min(factor, IMPLAUSIBLE)
    return factor


def pr_factor(pr_ms: float, fid: Fiducials, p_consistency: float | None) -> float:
    """PR factor (0–1): P height over its surroundings, beat-to-beat P consistency, plausible range."""
    height = fid.quality.get("p_height_mv", 0.0)
    factor = 0.3 + 0.7 * ramp(height, P_HEIGHT_MV[1], P_HEIGHT_MV[0])
    consistency = p_consistency if p_consistency is not None else 0.0
    factor *= 0.3 + 0.7 * ramp(consistency, P_CONSISTENCY[1], P_CONSISTENCY[0])
    if not PR_RANGE_MS[0] <= pr_ms <= PR_RANGE_MS[1]:
        factor = min(factor, IMPLAUSIBLE)
    return factor
