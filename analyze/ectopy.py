"""Per-beat timing and QRS shape: the features premature beats are recognised by.

Timing is read against the *underlying cycle*: the median over beats of the mean of the two RR intervals around
each beat. For a sinus rhythm that is the RR itself; in a ventricular bigeminy with full compensatory pauses it is
the sinus cycle (coupling + pause = two cycles), so the premature beats stand out without a run of normal RRs.

The classification of beats from these features is in :mod:`analyze.arrhythmia`.

References: Surawicz & Knilans, *Chou's Electrocardiography in Clinical Practice*, 6th ed., ch. 17 (premature
complexes: coupling, compensatory pause, QRS morphology); AHA/ACC/HRS Part II statement list (Mason et al.,
Circulation 115:1325, 2007) for bigeminy (every other beat ectopic) and trigeminy (every third).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from analyze.beats import Beats, MedianBeats
from ecg.record import LEADS


@dataclass(frozen=True)
class BeatFeatures:
    """Timing and shape of one beat (ratios to the underlying cycle; ``None`` at the record's edges)."""

    sample: int
    rr_before: float | None
    rr_after: float | None
    rr_local: float | None
    """RR before over the RR before that (prematurity against the previous beat)."""
    qrs_correlation: float | None
    qrs_wider_ms: float | None
    """QRS width (spatial-velocity span) minus the dominant beat's (ms)."""
    p_correlation: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        return {k: (None if v is None else round(float(v), 3) if k != "sample" else int(v))
                for k, v in asdict(self).items()}


def beat_features(
    clean: np.ndarray, beats: Beats, median: MedianBeats, p_window: tuple[int, int] | None
) -> tuple[tuple[BeatFeatures, ...], float | None]:
    """Features of every beat, and the underlying cycle (s).

    ``p_window`` is the sinus P wave's window relative to the QRS fiducial (samples, from the median beat), or
    ``None`` when no P wave was delineated.
    """
    fs = median.fs
    peaks = beats.r_peaks
    if len(peaks) < 3:
        return (), None
    rr = np.diff(peaks) / fs
    cycle = float(np.median((rr[:-1] + rr[1:]) / 2))
    rows = [LEADS.index(n) for n in beats.rhythm_leads]
    half = int(0.06 * fs)
    template = median.waves[rows, median.r_index - half : median.r_index + half]
    width_window = int(0.15 * fs)
    velocity_template = _width_ms(median.waves[rows, median.r_index - width_window : median.r_index + width_window], fs)
    p_template = None
    if p_window is not None:
        seg = median.waves[rows, median.r_index + p_window[0] : median.r_index + p_window[1]]
        if seg.size and np.isfinite(seg).all():  # an empty window: the P peak too close to the QRS
            p_template = seg - seg.mean(axis=1, keepdims=True)
    out = []
    for k, r in enumerate(peaks):
        before = rr[k - 1] / cycle if k >= 1 else None
        after = rr[k] / cycle if k < len(rr) else None
        local = rr[k - 1] / rr[k - 2] if k >= 2 else None
        qrs = _window(clean, rows, r - half, r + half)
        corr = _correlation(qrs, template) if qrs is not None else None
        wide = _window(clean, rows, r - width_window, r + width_window)
        width = _width_ms(wide, fs) if wide is not None else None
        p_corr = None
        if p_template is not None and p_window is not None:
            seg = _window(clean, rows, r + p_window[0], r + p_window[1])
            p_corr = _correlation(seg, p_template) if seg is not None else None
        out.append(BeatFeatures(int(r), before, after, local, corr,
                                None if width is None or velocity_template is None else width - velocity_template,
                                p_corr))
    return tuple(out), cycle


def _window(x: np.ndarray, rows: list[int], a: int, b: int) -> np.ndarray | None:
    if a < 0 or b > x.shape[1]:
        return None
    seg = x[rows, a:b]
    return seg if np.isfinite(seg).all() else None


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.shape != b.shape or a.size == 0 or not np.isfinite(b).all():
        return None
    a = (a - a.mean(axis=1, keepdims=True)).ravel()
    b = (b - b.mean(axis=1, keepdims=True)).ravel()
    if not np.any(a) or not np.any(b) or len(a) != len(b):
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _width_ms(waves: np.ndarray, fs: float) -> float | None:
    """Span (ms) over which the spatial velocity exceeds 20 % of its peak: a QRS width comparable between beats."""
    if not np.isfinite(waves).all():
        return None
    velocity = np.sqrt(np.sum(np.gradient(waves, axis=1) ** 2, axis=0))
    above = np.flatnonzero(velocity > 0.2 * velocity.max())
    return float(above[-1] - above[0]) * 1000.0 / fs if len(above) else None
