"""Heartbeat windows for the ground truth, from R peaks detected on the source record.

Beats happen at the same time in every lead, so R peaks are found once, with NeuroKit2 (``ecg_clean`` then
``ecg_peaks`` at the record's own ``sampling_rate``) on the longest fully recorded lead, preferring II. A beat
spans from midway between the previous R peak and its own to midway between its own and the next one; the first
and last R peaks have no neighbour on one side and give no beat.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ecg.record import LEADS, EcgRecord

_PREFERRED = ("II", "V5", "I", "V2", "V6", "aVF", "III", "V1", "V3", "V4", "aVL", "aVR")
_MIN_SECONDS = 2.0


@dataclass(frozen=True)
class BeatWindow:
    """One beat in record time: its R peak and its span (s); ``r_sample`` indexes the record's samples."""

    r_sample: int
    r_peak_s: float
    start_s: float
    stop_s: float


def detect_r_peaks(record: EcgRecord) -> tuple[str | None, np.ndarray]:
    """R-peak sample indices on the best full-length lead, and that lead's name (``None`` when none works)."""
    import neurokit2 as nk  # heavy import, only when beats are needed

    order = sorted(
        range(len(LEADS)), key=lambda i: (-int(np.isfinite(record.signals[i]).sum()), _PREFERRED.index(LEADS[i]))
    )
    for i in order[:3]:
        row = record.signals[i]
        finite = np.isfinite(row)
        if finite.sum() < _MIN_SECONDS * record.fs or not finite.all() or np.ptp(row) < 0.05:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cleaned = nk.ecg_clean(row.astype(np.float64), sampling_rate=record.fs)
                _, info = nk.ecg_peaks(cleaned, sampling_rate=record.fs)
        except Exception:  # noqa: BLE001 - NeuroKit2 raises many types on degenerate signals
            continue
        peaks = np.asarray(info.get("ECG_R_Peaks", []), dtype=np.int64)
        if len(peaks) >= 2:
            return LEADS[i], np.sort(peaks)
    return None, np.zeros(0, dtype=np.int64)


def beat_windows(r_peaks: np.ndarray, fs: float) -> list[BeatWindow]:
    """Beats with a neighbour R peak on each side, spanning midway to midway (see module docstring)."""
    beats = []
    for prev, r, nxt in zip(r_peaks[:-2], r_peaks[1:-1], r_peaks[2:], strict=True):
        beats.append(BeatWindow(int(r), r / fs, (prev + r) / 2 / fs, (r + nxt) / 2 / fs))
    return beats


def beats_in_window(beats: list[BeatWindow], t_start_s: float, t_stop_s: float) -> list[BeatWindow]:
    """The beats entirely inside ``[t_start_s, t_stop_s)``."""
    return [b for b in beats if b.start_s >= t_start_s and b.stop_s < t_stop_s]
