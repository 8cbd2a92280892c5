"""Checks between leads that were printed at the same time: a lead printed twice must draw the same signal.

A rhythm strip repeats one lead of the grid over the whole record, so over that lead's grid panel (2.5 s of a 3×4
print) the strip and the panel are *the same signal* — recorded together, printed twice. When the two traces
disagree, one of them followed the wrong ink (a shadow, a neighbouring row, text) or the strip shows another lead;
the record keeps the strip (:func:`digitize.reconstruct.reconstruct` writes it last), so its claim is in doubt.
:func:`repeat_checks` measures that disagreement on the reconstructed panels; :mod:`digitize.confidence` uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from digitize.calibrate import Calibration
from digitize.layout import Layout, Panel
from digitize.reconstruct import reconstruct
from digitize.trace import RowTrace
from ecg.errors import InvalidRecordError
from ecg.record import LEADS

MIN_OVERLAP_S = 1.0
"""Shortest common stretch (s) on which two prints of a lead are compared."""

MIN_SIGNAL_MV = 0.03
"""RMS (mV) below which both prints are too flat to compare."""


@dataclass(frozen=True)
class RepeatCheck:
    """How the print of a lead that the record keeps compares with another print of the same lead.

    Attributes
    ----------
    lead : str
    residual : float
        RMS of the difference over the RMS of the two prints (each median-removed): 0 identical, ≈ 1.4 unrelated.
    r : float
        Pearson correlation of the two prints over the common stretch.
    start_s, end_s : float
        The common stretch (s from the record's start).
    """

    lead: str
    residual: float
    r: float
    start_s: float
    end_s: float


def panel_signals(traces: Sequence[RowTrace], layout: Layout, calibration: Calibration, fs: float) -> list[np.ndarray]:
    """Each panel's own signal (mV on the record's time axis, NaN outside the panel), unsmoothed; an empty array
    for a panel with no traced ink (e.g. the missing half of a torn print)."""
    out = []
    for panel in layout.panels:
        try:
            record = reconstruct(traces, replace(layout, panels=(panel,)), calibration, fs=fs, smooth=False)
        except InvalidRecordError:  # nothing traced in this panel: nothing to compare
            out.append(np.zeros(0))
            continue
        out.append(record.signals[LEADS.index(panel.lead)].astype(np.float64))
    return out


def repeat_checks(
    traces: Sequence[RowTrace], layout: Layout, calibration: Calibration, fs: float
) -> dict[str, RepeatCheck]:
    """Per lead printed more than once: the worst agreement between the print the record keeps (the last panel of
    that lead) and each other print, over their common stretch (≥ :data:`MIN_OVERLAP_S`)."""
    panels: list[Panel] = list(layout.panels)
    repeated = {p.lead for p in panels if sum(q.lead == p.lead for q in panels) > 1}
    if not repeated:
        return {}
    signals = panel_signals(traces, layout, calibration, fs)
    checks: dict[str, RepeatCheck] = {}
    for lead in sorted(repeated):
        indices = [i for i, p in enumerate(panels) if p.lead == lead]
        kept = indices[-1]
        for other in indices[:-1]:
            check = _compare(lead, signals[kept], signals[other], fs)
            if check is not None and (lead not in checks or check.residual > checks[lead].residual):
                checks[lead] = check
    return checks


def _compare(lead: str, a: np.ndarray, b: np.ndarray, fs: float) -> RepeatCheck | None:
    if a.size == 0 or a.size != b.size:
        return None
    both = np.flatnonzero(np.isfinite(a) & np.isfinite(b))
    if both.size < MIN_OVERLAP_S * fs:
        return None
    x = a[both] - np.median(a[both])
    y = b[both] - np.median(b[both])
    scale = float(np.sqrt(0.5 * (np.mean(x**2) + np.mean(y**2))))
    if scale < MIN_SIGNAL_MV:
        return None
    residual = float(np.sqrt(np.mean((x - y) ** 2)) / scale)
    denom = float(np.sqrt(np.sum(x**2) * np.sum(y**2)))
    r = float(np.sum(x * y) / denom) if denom > 0 else 0.0
    return RepeatCheck(lead, residual, r, both[0] / fs, (both[-1] + 1) / fs)


PRECORDIAL_MIN_S = 1.0
"""Shortest common stretch (s) on which neighbouring chest leads are compared."""


def precordial_fit(signals: dict[str, np.ndarray], fs: float) -> dict[str, float]:
    """Per chest lead V1–V6: the best Pearson r with its neighbouring chest leads (V(k−1), V(k+1)) over their common
    stretch (≥ :data:`PRECORDIAL_MIN_S`, each median-removed); leads without a simultaneous neighbour are left out.

    Neighbouring chest electrodes see the heart from nearby, so their leads look alike: on PTB-XL (every third of
    1,898 records, 1.25 s windows of a 3×4 print) r(V1, V2) has median 0.77 and 5 % below 0.07; r(V5, V6) median
    0.96, 5 % below 0.67. A lead unlike both neighbours is unusual, not impossible, so this is weak evidence alone.
    """
    fits: dict[str, float] = {}
    for k in range(1, 7):
        lead = f"V{k}"
        if lead not in signals:
            continue
        mine = np.asarray(signals[lead], dtype=np.float64)
        best = None
        for other in (f"V{k - 1}", f"V{k + 1}"):
            if other not in signals:
                continue
            theirs = np.asarray(signals[other], dtype=np.float64)
            both = np.isfinite(mine) & np.isfinite(theirs)
            if both.sum() < PRECORDIAL_MIN_S * fs:
                continue
            x = mine[both] - np.median(mine[both])
            y = theirs[both] - np.median(theirs[both])
            denom = float(np.sqrt(np.sum(x**2) * np.sum(y**2)))
            r = float(np.sum(x * y) / denom) if denom > 0 else 0.0
            best = r if best is None else max(best, r)
        if best is not None:
            fits[lead] = best
    return fits


def crossing_share(traces: Sequence[RowTrace], row: int, x0: float, x1: float) -> float:
    """Largest share of the columns ``[x0, x1)`` where row ``row``'s path lies beyond a neighbouring row's path (above
    the row above it, or below the row below it): tall complexes whose strokes overlap, where which stroke belongs to
    which row is a guess."""
    columns = np.arange(np.ceil(x0), np.floor(x1))
    mine = traces[row]
    if columns.size == 0 or mine.x.size < 2:
        return 0.0
    y = np.interp(columns, mine.x, mine.y, left=np.nan, right=np.nan)
    worst = 0.0
    for other, side in ((row - 1, -1.0), (row + 1, 1.0)):
        if 0 <= other < len(traces) and traces[other].x.size >= 2:
            theirs = np.interp(columns, traces[other].x, traces[other].y, left=np.nan, right=np.nan)
            both = np.isfinite(y) & np.isfinite(theirs)
            if both.any():
                worst = max(worst, float(np.mean((theirs[both] - y[both]) * side < 0)))
    return worst
