"""Per-lead wave amplitudes and QRS shape on the median beats (what the conduction and voltage rules read).

All amplitudes are in mV relative to the lead's PR-segment level (the 10 ms before the global QRS onset); times in
ms. Wave naming follows the usual convention: Q is a negative deflection before the first R, R the first positive
deflection, S the negative deflection after R, R' a second positive deflection after S (RSR' pattern).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import find_peaks

from analyze.beats import MedianBeats
from ecg.record import LEADS

MIN_WAVE_MV = 0.05
"""A deflection smaller than this (mV) is not counted as a Q, R, S or R' wave."""

WAVE_CONTEXT_S = 0.04
"""A positive wave must fall again within the QRS or this long (s) after its end to count as an R or R' wave."""


@dataclass(frozen=True)
class LeadMorphology:
    """Amplitudes (mV) and QRS timing (ms) of one lead's median beat.

    Attributes
    ----------
    q_mv, s_mv : float
        Depth of the Q and S waves (≤ 0; 0 when absent).
    r_mv, r_prime_mv : float
        Height of the R and R' waves (≥ 0; 0 when absent).
    qrs_pp_mv : float
        QRS peak-to-peak amplitude.
    p_mv, t_mv : float or None
        Largest deflection of the P and T waves (signed); ``None`` when the wave was not delineated.
    st_mv : float or None
        ST level 60 ms after the QRS end (J + 60 ms).
    r_peak_time_ms : float or None
        QRS onset to the peak of the last R (R') wave: the "intrinsicoid deflection" of BBB criteria.
    s_duration_ms : float
        Time the QRS spends below the baseline after its R peak (0 without S wave).
    """

    q_mv: float
    r_mv: float
    s_mv: float
    r_prime_mv: float
    qrs_pp_mv: float
    p_mv: float | None
    t_mv: float | None
    st_mv: float | None
    r_peak_time_ms: float | None
    s_duration_ms: float

    def to_dict(self) -> dict[str, float | None]:
        return {k: (None if v is None else round(float(v), 3)) for k, v in asdict(self).items()}


def lead_morphology(
    median: MedianBeats, qrs_on: int, qrs_off: int, p_span: tuple[int, int] | None,
    t_span: tuple[int, int] | None,
) -> dict[str, LeadMorphology]:
    """Morphology of every lead whose median beat covers the QRS (``{lead name: LeadMorphology}``)."""
    fs = median.fs
    out = {}
    for i, name in enumerate(LEADS):
        if not median.present(i, qrs_on - int(0.01 * fs), qrs_off + 1):
            continue
        wave = median.waves[i]
        level = float(np.mean(wave[qrs_on - int(0.01 * fs) : qrs_on + 1]))
        out[name] = _qrs_shape(wave - level, qrs_on, qrs_off, fs, p_span, t_span)
    return out


def _qrs_shape(
    x: np.ndarray, on: int, off: int, fs: float, p_span: tuple[int, int] | None, t_span: tuple[int, int] | None
) -> LeadMorphology:
    qrs = x[on : off + 1]
    to_ms = 1000.0 / fs
    positive = _positive_waves(x, on, off, fs)
    r_mv = r_prime_mv = q_mv = s_mv = 0.0
    r_time = None
    s_duration = 0.0
    if len(positive):
        first, last = positive[0], positive[-1]
        r_mv = float(qrs[first])
        r_time = float(last * to_ms)
        before = qrs[: first + 1]
        q_mv = min(0.0, float(before.min()))
        if q_mv > -MIN_WAVE_MV:
            q_mv = 0.0
        after = qrs[first:]
        s_mv = min(0.0, float(after.min()))
        if len(positive) > 1:
            r_prime_mv = float(qrs[last])
            between = qrs[first : last + 1]
            s_mv = min(0.0, float(between.min()))
            # an R' needs a real dip before it, not a slur on one R
            if qrs[last] - between.min() < MIN_WAVE_MV or qrs[first] - between.min() < MIN_WAVE_MV:
                r_prime_mv = 0.0
        if s_mv > -MIN_WAVE_MV:
            s_mv = 0.0
        s_duration = float(np.sum(after < -MIN_WAVE_MV / 2) * to_ms) if s_mv < 0 else 0.0
    else:  # QS complex
        q_mv = min(0.0, float(qrs.min()))
    pp = float(qrs.max() - qrs.min())
    p_mv = _largest(x, p_span)
    t_mv = _largest(x, t_span)
    j60 = off + int(0.06 * fs)
    st = float(x[j60]) if j60 < len(x) and np.isfinite(x[j60]) else None
    return LeadMorphology(q_mv, r_mv, s_mv, r_prime_mv, pp, p_mv, t_mv, st, r_time, s_duration)


def _positive_waves(x: np.ndarray, on: int, off: int, fs: float) -> np.ndarray:
    """Peaks (indices from ``on``) of the positive waves of the QRS: local maxima inside the QRS that rise and fall
    by at least :data:`MIN_WAVE_MV`.

    The search looks :data:`WAVE_CONTEXT_S` past the QRS end, so a signal still rising there (the discordant ST
    elevation of V1 in LBBB, a late J point) is not taken for an R wave ending with the QRS.
    """
    stop = off + 1 + int(WAVE_CONTEXT_S * fs)
    tail = x[off + 1 : stop]
    finite = np.isfinite(tail)
    tail = tail[: int(np.argmin(finite)) if not finite.all() else len(tail)]
    context = np.concatenate(([0.0], x[on : off + 1], tail if len(tail) else [0.0]))
    peaks, _ = find_peaks(context, height=MIN_WAVE_MV, prominence=MIN_WAVE_MV)
    peaks = peaks - 1
    return peaks[peaks <= off - on]


def _largest(x: np.ndarray, span: tuple[int, int] | None) -> float | None:
    if span is None or span[1] <= span[0]:
        return None
    seg = x[span[0] : span[1]]
    if not len(seg) or not np.isfinite(seg).all():
        return None
    return float(seg[np.argmax(np.abs(seg))])


DELTA_S = 0.03
"""Length (s) of the initial QRS part whose slope is compared with the QRS's peak slope."""


def delta_ratio(median: MedianBeats, qrs_on: int, qrs_off: int) -> float | None:
    """Mean spatial velocity (independent leads I, II, V1–V6) over the first :data:`DELTA_S` of the QRS divided by
    its peak within the QRS. A delta wave (pre-excitation) starts the QRS with a slow slur: a low ratio."""
    rows = [LEADS.index(n) for n in ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")]
    rows = [i for i in rows if median.present(i, qrs_on, qrs_off + 1)]
    if len(rows) < 2 or qrs_off <= qrs_on:
        return None
    velocity = np.sqrt(np.sum(np.gradient(median.waves[rows, qrs_on : qrs_off + 1], axis=1) ** 2, axis=0))
    peak = float(velocity.max())
    if peak <= 0:
        return None
    return float(velocity[: int(DELTA_S * median.fs)].mean() / peak)
