"""Beat-to-beat P-wave consistency: the atrial part of the rhythm analysis.

Sinus rhythm repeats the same P wave before every QRS; in atrial fibrillation the fibrillatory waves do not line up
with the QRS, so the windows before each QRS look different and their median shows no P wave. The consistency is the
median correlation, over beats, of each beat's P-wave window (all long leads stacked) with the median window.
"""

from __future__ import annotations

import numpy as np

from analyze.beats import Beats, MedianBeats
from analyze.delineate import Fiducials
from ecg.record import LEADS


def p_wave_consistency(clean: np.ndarray, beats: Beats, median: MedianBeats, fid: Fiducials) -> float | None:
    """Median correlation (−1…1) of each beat's P window with the median one; ``None`` with fewer than 3 beats.

    The window runs from 60 ms before the P peak of the median beat to 20 ms before the QRS onset (or 60 ms after
    the P peak when the QRS onset is unknown), relative to each beat's QRS fiducial.
    """
    if fid.p_peak is None:
        return None
    fs = median.fs
    start = fid.p_peak - int(0.06 * fs) - median.r_index
    stop = (fid.qrs_on - int(0.02 * fs) if fid.qrs_on is not None else fid.p_peak + int(0.06 * fs)) - median.r_index
    if stop - start < int(0.04 * fs):
        return None
    rows = [LEADS.index(name) for name in beats.rhythm_leads]
    windows = []
    for r in beats.r_peaks:
        a, b = r + start, r + stop
        if a < 0 or b > clean.shape[1]:
            continue
        seg = clean[rows, a:b]
        if np.isfinite(seg).all():
            seg = seg - seg.mean(axis=1, keepdims=True)
            windows.append(seg.ravel())
    if len(windows) < 3:
        return None
    stack = np.stack(windows)
    template = np.median(stack, axis=0)
    if not np.any(template):
        return 0.0
    correlations = [np.corrcoef(w, template)[0, 1] if np.any(w) else 0.0 for w in stack]
    return float(np.median(correlations))
