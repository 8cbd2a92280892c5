"""Per-lead T-wave end on the median beats, combined robustly across leads.

Each lead's T end is found by the *trapezium* (area) method (Vázquez-Seisdedos et al., "New approach for T-wave
end detection on electrocardiogram: performance in noisy conditions", BioMed Eng OnLine 10:77, 2011): from the
point of steepest descent after the T peak, the T end is the point that maximises the area of the trapezium
between that point, the candidate point and a reference point further on — less sensitive to noise and to the
shape of the T wave's tail than the classic tangent method (Lepeschkin & Surawicz 1952), which is kept as
``method="tangent"``. Leads whose T wave is too small for their QRS (< :data:`MIN_T_RELATIVE` of its peak-to-peak)
are not used. The global T end is a high quantile (:data:`COMBINE_QUANTILE`) of the reliable leads' T ends —
the annotators' "latest offset across leads" without the one lead that runs late — after leaving out the leads
whose T end lies far after the median lead's (:data:`LATE_TRIM_MS`), and the spread between leads
(:func:`lead_spread_ms`) is part of the QT confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from analyze.beats import MedianBeats

TendMethod = Literal["trapezium", "tangent"]

MIN_T_RELATIVE = 0.06
"""A lead's T wave counts when its peak deviation is at least this fraction of the lead's QRS peak-to-peak."""
MIN_T_MV = 0.03
"""... and at least this many mV."""
COMBINE_QUANTILE = 0.75
"""Global T end: this quantile of the reliable leads' T ends (1.0 would be the latest lead)."""
T_PEAK_START_S = 0.06
"""The T peak is searched from this long (s) after the QRS end ..."""
T_PEAK_LIMIT_S, T_PEAK_LIMIT_RR = 0.55, 0.6
"""... up to min(0.55 s, 0.6 RR) after the QRS fiducial."""
T_END_LIMIT_S, T_END_LIMIT_RR = 0.75, 0.85
"""The T end is searched up to min(0.75 s, 0.85 RR) after the QRS fiducial."""
TRAPEZIUM_REACH_S = 0.15
"""The trapezium's reference point lies this long (s) after the steepest descent (window for the T end)."""
LATE_TRIM_MS = 80.0
"""Before the quantile, leads whose T end lies more than this (ms) after the median lead's are left out: a lead
whose T end lands on a U wave, the next P wave or noise would otherwise move the quantile by 100–300 ms."""
MIN_LEADS = 3
"""Fewer reliable leads than this: no global T end from the per-lead method."""


@dataclass(frozen=True)
class LeadTEnds:
    """T ends of every lead (sample indices into the median beats; NaN where the lead's T wave is not usable)."""

    t_end: np.ndarray
    t_peak: np.ndarray
    amplitude_mv: np.ndarray

    @property
    def reliable(self) -> np.ndarray:
        return np.isfinite(self.t_end)


def lead_t_ends(
    median: MedianBeats, qrs_on: int, qrs_off: int, rr_s: float, *, method: TendMethod = "trapezium",
    limit: int | None = None,
) -> LeadTEnds:
    """T end of each lead's median beat (see the module docstring); positions are sample indices. ``limit``:
    the latest index a T end may take (e.g. the next beat's P onset)."""
    fs, r = median.fs, median.r_index
    n_leads, n = median.waves.shape
    ms = lambda seconds: int(round(seconds * fs))  # noqa: E731
    start = qrs_off + ms(T_PEAK_START_S)
    stop = min(n - ms(0.05), r + ms(min(T_PEAK_LIMIT_S, T_PEAK_LIMIT_RR * rr_s)))
    end_limit = min(n - 1, r + ms(min(T_END_LIMIT_S, T_END_LIMIT_RR * rr_s)), median.supported_until(r))
    if limit is not None:
        end_limit = min(end_limit, int(limit))
        stop = min(stop, end_limit - ms(0.04))  # the T peak comes before its end
    t_end = np.full(n_leads, np.nan)
    t_peak = np.full(n_leads, np.nan)
    amp = np.full(n_leads, np.nan)
    if stop - start < ms(0.05) or end_limit <= stop:
        return LeadTEnds(t_end, t_peak, amp)
    kernel = np.ones(ms(0.02)) / ms(0.02)
    for i in range(n_leads):
        if not median.present(i, qrs_on - ms(0.01), end_limit + 1):
            continue
        x = median.waves[i]
        base = float(np.mean(x[qrs_on - ms(0.01) : qrs_on + 1]))
        y = np.convolve(x - base, kernel, mode="same")
        qrs_pp = float(np.ptp(x[qrs_on : qrs_off + 1]))
        k = start + int(np.argmax(np.abs(y[start:stop])))
        height = float(y[k])
        amp[i] = height
        if abs(height) < max(MIN_T_MV, MIN_T_RELATIVE * qrs_pp):
            continue
        t_peak[i] = k
        z = y * np.sign(height)  # T wave made positive
        slope = np.gradient(z)
        reach = min(end_limit, k + ms(0.2))
        if reach - k < 3:
            continue
        s = k + int(np.argmin(slope[k:reach]))  # steepest descent
        if slope[s] >= 0:
            continue
        if method == "tangent":
            end = s + z[s] / -slope[s]
        else:
            ref = min(end_limit, s + ms(TRAPEZIUM_REACH_S))
            if ref - s < 3:
                continue
            t = np.arange(s, ref + 1)
            area = 0.5 * (z[s] - z[t]) * (2 * ref - s - t)
            end = float(t[int(np.argmax(area))])
        if s < end <= end_limit:
            t_end[i] = end
    return LeadTEnds(t_end, t_peak, amp)


def combine(ends: LeadTEnds, fs: float, *, quantile: float | None = None, trim_ms: float | None = None) -> int | None:
    """Global T end: the ``quantile`` (default :data:`COMBINE_QUANTILE`) of the reliable leads' T ends, leaving out
    those more than ``trim_ms`` (default :data:`LATE_TRIM_MS`) after the median lead's (``None`` with fewer than
    :data:`MIN_LEADS` reliable leads)."""
    values = ends.t_end[ends.reliable]
    if len(values) < MIN_LEADS:
        return None
    trim = (LATE_TRIM_MS if trim_ms is None else trim_ms) * fs / 1000.0
    values = values[values <= np.median(values) + trim]
    return int(round(float(np.quantile(values, COMBINE_QUANTILE if quantile is None else quantile))))


def lead_spread_ms(ends: LeadTEnds, fs: float) -> float | None:
    """Interquartile range (ms) of the reliable leads' T ends: how much the leads disagree on the T end."""
    values = ends.t_end[ends.reliable]
    if len(values) < MIN_LEADS:
        return None
    q1, q3 = np.quantile(values, [0.25, 0.75])
    return float(q3 - q1) * 1000.0 / fs
