"""Choose between candidate lead assignments with the limb-lead physics and the beat timing.

The row count gives a template (:mod:`digitize.layout`); what it leaves open is settled here from the traces:

* **Lead order.** 6×2 and 12×1 prints come in the standard order (I, II, III, aVR, aVL, aVF) and in the Cabrera
  order (aVL, I, −aVR, II, aVF, III; some printers draw aVR instead of −aVR). Each candidate is reconstructed and the
  one whose limb leads obey Einthoven and Goldberger best (:func:`digitize.physics.limb_check`) is kept when it is
  clearly better than the template's order.
* **Column timing of 6×2.** The right column shows either the next 5 s (sequential) or the same 5 s as the left one
  (simultaneous, all 12 leads recorded together). Beats are simultaneous in every lead, so when the beats of each
  row's right half fall at the same offsets as those of its left half, the columns are simultaneous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks

from digitize.calibrate import Calibration
from digitize.layout import Layout, Panel
from digitize.physics import LimbCheck, limb_check
from digitize.reconstruct import reconstruct
from digitize.trace import RowTrace
from ecg.record import LEADS

CABRERA = {"I": "aVL", "II": "I", "III": "aVR", "aVR": "II", "aVL": "aVF", "aVF": "III"}
"""Standard-order slot → the lead the Cabrera order prints there (aVR printed inverted, as −aVR, on most)."""

CLEARLY_BETTER = 0.6
"""A candidate replaces the template's assignment when its physics score is below this share of the template's."""

SYNC_TOLERANCE_S = 0.04
"""Beats of two leads closer than this (s) are the same beat."""

SYNC_SHARE = 0.5
"""Share of right-column beats that must fall on a left-column beat offset to call 6×2 columns simultaneous. Was
0.8: on foreign val every 6×2 print (22, all simultaneous) reached 59–100 %, and the three below 0.8 came out with
their V leads at ≈ 0 dB; sequential columns hit by chance only (±40 ms around beats 0.6–1 s apart: ≈ 10–25 %)."""


def _relabel(layout: Layout, mapping: dict[str, str], signs: dict[str, float]) -> Layout:
    n_grid = grid_rows(layout.template)
    panels = []
    for p in layout.panels:
        if p.row < n_grid and p.lead in mapping:
            lead = mapping[p.lead]
            p = replace(p, lead=lead, sign=signs.get(lead, 1.0))
        panels.append(p)
    return replace(layout, panels=tuple(panels))


def grid_rows(template: str) -> int:
    """Rows of the lead grid (rhythm strips below it not counted)."""
    return {"3x4": 3, "6x2": 6, "12x1": 12}.get(template.split("+")[0], 0)


def candidate_orders(layout: Layout, *, with_3x4: bool = False) -> list[tuple[str, Layout]]:
    """The template's lead order and, for 6×2 and 12×1 (and 3×4 when ``with_3x4``: the printed labels decide
    there), the Cabrera orders (with −aVR and with aVR)."""
    candidates = [("standard order", layout)]
    if layout.template.split("+")[0] in ("6x2", "12x1") or (with_3x4 and layout.template.startswith("3x4")):
        candidates.append(("Cabrera order (−aVR)", _relabel(layout, CABRERA, {"aVR": -1.0})))
        candidates.append(("Cabrera order (aVR)", _relabel(layout, CABRERA, {})))
    return candidates


def layout_signals(
    traces: Sequence[RowTrace], layout: Layout, calibration: Calibration, fs: float
) -> dict[str, np.ndarray]:
    """Each lead's signal (mV, NaN where not printed) under ``layout``, unsmoothed."""
    record = reconstruct(traces, layout, calibration, fs=fs, smooth=False)
    return {lead: record.signals[i].astype(np.float64) for i, lead in enumerate(LEADS)}


def choose_order(
    traces: Sequence[RowTrace], layout: Layout, calibration: Calibration, fs: float
) -> tuple[Layout, LimbCheck, list[str]]:
    """The candidate lead order whose limb leads obey the physics best (the template's unless clearly beaten)."""
    scored = []
    for name, candidate in candidate_orders(layout):
        check = limb_check(layout_signals(traces, candidate, calibration, fs), fs)
        scored.append((name, candidate, check))
    base_name, base, base_check = scored[0]
    if not base_check.checked or len(scored) == 1:
        return base, base_check, []
    best = min(scored, key=lambda item: item[2].score if item[2].checked else np.inf)
    notes = [f"limb-lead physics: {base_name} residual {base_check.score:.2f}"]
    if best[0] != base_name and best[2].score < CLEARLY_BETTER * base_check.score:
        notes.append(f"{best[0]} fits the physics better (residual {best[2].score:.2f}): used")
        return best[1], best[2], notes
    return base, base_check, notes


def beat_offsets(values: np.ndarray, fs: float) -> np.ndarray:
    """Times (s from the start) of the sharpest slopes, one per beat: peaks of the smoothed absolute derivative."""
    values = values[np.isfinite(values)]
    if values.size < fs:
        return np.zeros(0)
    slope = uniform_filter1d(np.abs(np.diff(values)), max(1, int(0.03 * fs)))
    top = float(np.percentile(slope, 99))
    if top <= 0:
        return np.zeros(0)
    peaks, _ = find_peaks(slope, height=0.35 * top, distance=int(0.3 * fs))
    return peaks / fs


def columns_simultaneous(traces: Sequence[RowTrace], layout: Layout, calibration: Calibration, fs: float) -> float:
    """Share of the right-column beats (6×2) that fall within :data:`SYNC_TOLERANCE_S` of a beat offset of the same
    row's left column (offsets from each column's start); NaN when there are too few beats to tell."""
    half = 0.5 * layout.duration_s
    record = reconstruct(traces, layout, calibration, fs=fs, smooth=False)
    n = int(round(half * fs))
    hits = total = 0
    for row in range(6):
        leads = [p for p in layout.panels if p.row == row]
        if len(leads) != 2:
            continue
        left = beat_offsets(record.signals[LEADS.index(leads[0].lead), :n].astype(np.float64), fs)
        right = beat_offsets(record.signals[LEADS.index(leads[1].lead), n : 2 * n].astype(np.float64), fs)
        if left.size < 3 or right.size < 3:
            continue
        # the right column starts just after the pen's jump: leave its first and last 0.2 s out
        right = right[(right > 0.2) & (right < half - 0.2)]
        hits += int(sum(np.min(np.abs(left - t)) <= SYNC_TOLERANCE_S for t in right))
        total += right.size
    return hits / total if total >= 6 else float("nan")


def settle_columns(
    traces: Sequence[RowTrace], layout: Layout, calibration: Calibration, fs: float
) -> tuple[Layout, list[str]]:
    """For 6×2 prints: shift the right column to the left column's 5 s when their beats coincide."""
    if not layout.template.startswith("6x2"):
        return layout, []
    share = columns_simultaneous(traces, layout, calibration, fs)
    if not np.isfinite(share):
        return layout, ["6×2 columns: too few beats to tell their timing; sequential assumed"]
    note = f"6×2 columns: {100 * share:.0f} % of right-column beats on left-column beat offsets"
    if share < SYNC_SHARE:
        return layout, [note + " → sequential (the right column shows the next 5 s)"]
    shift = -0.5 * layout.duration_s
    panels = tuple(
        replace(p, time_shift_s=shift, t_start_s=p.t_start_s + shift) if _right_column(p, layout) else p
        for p in layout.panels
    )
    return replace(layout, panels=panels), [note + " → simultaneous (both columns show the same 5 s)"]


def _right_column(panel: Panel, layout: Layout) -> bool:
    return panel.row < 6 and panel.t_start_s >= 0.5 * layout.duration_s - 1e-6
