"""NeuroKit2 delineation on median beats: each lead's median beat tiled into a periodic signal.

``nk.ecg_delineate`` wants a signal with several beats (fewer than four give NaNs, and ``ecg_segment`` refuses
less than 4 s), while a 3×4 printout gives each lead 2.5 s. Tiling the lead's median beat — cut to one RR interval
around its QRS, ends blended so the joins are continuous — gives NeuroKit2 a clean periodic signal with known R
peaks; the fiducials of the middle beats are read back. Per-lead results are then combined into global ones
(earliest onset, latest offset) after dropping the one most extreme lead, which guards against a single
delineation failure deciding the global value.
"""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np

from analyze.beats import MedianBeats
from analyze.delineate import Fiducials

N_TILES = 9
"""Beats in the tiled signal; fiducials are read from the middle ones."""

_COLUMNS = {
    "p_on": "ECG_P_Onsets",
    "qrs_on": "ECG_R_Onsets",
    "qrs_off": "ECG_R_Offsets",
    "t_off": "ECG_T_Offsets",
}


def neurokit_fiducials(median: MedianBeats, rr_s: float, *, method: str) -> Fiducials:
    """Global fiducials from NeuroKit2 ``ecg_delineate(method=...)`` on every lead's tiled median beat."""
    per_lead: dict[str, list[int]] = {key: [] for key in _COLUMNS}
    for index in range(median.waves.shape[0]):
        points = _lead_fiducials(median, index, rr_s, method)
        for key, value in points.items():
            if value is not None:
                per_lead[key].append(value)
    values: dict[str, int | None] = {}
    missing: dict[str, str] = {}
    for key, found in per_lead.items():
        earliest = key.endswith("_on")
        values[key] = _robust_extreme(found, earliest)
        if values[key] is None:
            missing[key] = f"NeuroKit2 ({method}) found it in no lead"
    return Fiducials(p_on=values["p_on"], qrs_on=values["qrs_on"], qrs_off=values["qrs_off"],
                     t_off=values["t_off"], missing=missing)


def _robust_extreme(values: list[int], earliest: bool) -> int | None:
    if not values:
        return None
    ordered = sorted(values) if earliest else sorted(values, reverse=True)
    return int(ordered[1] if len(ordered) >= 4 else ordered[0])


def _lead_fiducials(median: MedianBeats, index: int, rr_s: float, method: str) -> dict[str, int | None]:
    fs, r = median.fs, median.r_index
    rr = int(round(rr_s * fs))
    before = min(r, int(0.45 * rr))
    after = min(median.waves.shape[1] - r, rr - before)
    beat = median.waves[index, r - before : r + after]
    if len(beat) < rr * 0.8 or not np.isfinite(beat).all():
        return {}
    beat = beat - np.linspace(beat[0], beat[-1], len(beat))  # continuous joins
    gap = rr - len(beat)
    if gap > 0:
        beat = np.concatenate([beat, np.zeros(gap)])
    signal = np.tile(beat, N_TILES)
    r_peaks = np.arange(N_TILES) * rr + before
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, waves = nk.ecg_delineate(signal, rpeaks=r_peaks, sampling_rate=fs, method=method)
    except Exception:  # noqa: BLE001 - NeuroKit2 raises assorted errors on beats it cannot delineate
        return {}
    out: dict[str, int | None] = {}
    middle = range(N_TILES // 2 - 1, N_TILES // 2 + 2)
    for key, column in _COLUMNS.items():
        points = np.asarray(waves.get(column, []), dtype=float)
        found = [points[k] - k * rr for k in middle if k < len(points) and np.isfinite(points[k])]
        out[key] = int(round(np.median(found) - before + r)) if found else None
    return out
