"""Settle what the row count leaves open, from the extracted traces: 3×4+3 or 6×2, and which lead a rhythm strip shows.

* **Rhythm strips.** A rhythm strip repeats one lead over the whole record, so in the time window of the 3×4 panel
  that shows the same lead it draws *the same signal*. The strip's lead is the panel whose signal it matches best
  (Pearson r over the panel's window), if that match is clear; otherwise the template's usual lead is kept.
* **Six rows.** In 6×2 each row shows one lead for 5 s and the next for 5 s; in the first rows of 3×4+3 each
  quarter (2.5 s) is another lead. The shape of a lead's trace (its upward and downward reach from the baseline)
  stays alike within a lead and changes between leads, so when quarters 1–2 and 3–4 look alike but 2–3 do not, the
  rows are 6×2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from digitize.calibrate import Calibration
from digitize.layout import TEMPLATES, Layout, template_panels
from digitize.trace import RowTrace

RHYTHM_MATCH_R = 0.9
"""Correlation above which a rhythm strip is taken to repeat a panel's lead."""

SAME_INK_MM = 1.0
"""Two paths closer than this (mm) run on the same ink."""

SAME_INK_SHARE = 0.3
"""Share of a panel's columns on which a rhythm strip's path runs on that panel's trace (within
:data:`SAME_INK_MM`) from which the panel is not compared with the strip. Foreign val + kit-dev: the strips matched
to a panel of the row above at r 0.99–1.00 against the truth ran on its trace over 93 % and 99 % of it; the other
2,218 strip/panel pairs ≤ 5 %."""

SIX_ROW_RATIO = 0.5
"""6×2 when the within-half change of trace shape is below this share of the change across the middle."""


def resolve_layout(
    layout: Layout, traces: Sequence[RowTrace], calibration: Calibration, *, forced: bool = False
) -> Layout:
    """Refine ``layout`` from the traces: 6×2 versus 3×4+3 (unless ``forced``), and the rhythm strips' leads."""
    notes = list(layout.notes)
    if not forced and layout.template in ("3x4+3", "6x2") and len(traces) == 6:
        ratio = six_row_ratio(layout, traces, calibration)
        template = "6x2" if ratio < SIX_ROW_RATIO else "3x4+3"
        notes.append(f"six rows: shape change within halves / across the middle = {ratio:.2f} → {template}")
        if template != layout.template:
            panels = template_panels(TEMPLATES[template], layout.x_origin, layout.duration_s, calibration.px_per_s)
            layout = replace(layout, template=template, panels=panels)
    n_grid = {"3x4+1": 3, "3x4+3": 3, "6x2+1": 6, "12x1+1": 12}.get(layout.template, 0)
    if n_grid and len(traces) > n_grid:
        panels = list(layout.panels)
        grid_panels = [p for p in panels if p.row < n_grid]
        for i, panel in enumerate(panels):
            if panel.row < n_grid:
                continue
            lead, r = rhythm_lead(
                traces[panel.row], traces, grid_panels, same_ink_px=SAME_INK_MM * calibration.px_per_mm_y
            )
            if lead is not None and lead != panel.lead:
                notes.append(f"rhythm strip {panel.row + 1} repeats lead {lead} (r {r:.2f}), not {panel.lead}")
                panels[i] = replace(panel, lead=lead)
            elif lead is None:
                notes.append(f"rhythm strip {panel.row + 1}: no clear match, taken as {panel.lead}")
        layout = replace(layout, panels=tuple(panels))
    return replace(layout, notes=tuple(notes))


def _row_values(trace: RowTrace, x0: float, x1: float) -> np.ndarray:
    """Trace heights (px, image y) at whole columns ``[x0, x1)``; empty when the trace does not cover them."""
    columns = np.arange(int(np.ceil(x0)), int(np.floor(x1)))
    if columns.size < 8 or trace.x.size < 2 or trace.x[0] > columns[-1] or trace.x[-1] < columns[0]:
        return np.zeros(0)
    return np.interp(columns, trace.x, trace.y)


def rhythm_lead(
    strip: RowTrace, traces: Sequence[RowTrace], grid_panels: Sequence, *, same_ink_px: float = 0.0
) -> tuple[str | None, float]:
    """Lead of the grid panel the rhythm strip matches best, and the correlation (None if below the threshold).

    Panels whose trace the strip's path runs on (within ``same_ink_px`` over :data:`SAME_INK_SHARE` of the panel)
    are left out."""
    best: tuple[str | None, float] = (None, -1.0)
    for panel in grid_panels:
        r = strip_match(strip, traces[panel.row], panel, same_ink_px=same_ink_px)
        if r is not None and r > best[1]:
            best = (panel.lead, r)
    return (best[0], best[1]) if best[1] >= RHYTHM_MATCH_R else (None, best[1])


def strip_match(strip: RowTrace, trace: RowTrace, panel, *, same_ink_px: float = 0.0) -> float | None:
    """Pearson r of a rhythm strip's heights with a grid panel's over the panel's columns; None when they cannot be
    compared (too short, or the strip's path runs on the panel's trace)."""
    a = _row_values(strip, panel.x_start + 3, panel.x_end - 3)
    b = _row_values(trace, panel.x_start + 3, panel.x_end - 3)
    n = min(a.size, b.size)
    if n < 8:
        return None
    if same_ink_px > 0 and float(np.mean(np.abs(a[:n] - b[:n]) < same_ink_px)) > SAME_INK_SHARE:
        return None
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b) / denom) if denom > 0 else 0.0


def six_row_ratio(layout: Layout, traces: Sequence[RowTrace], calibration: Calibration) -> float:
    """Median over the first three rows of (change within each half) / (change across the middle).

    The change between two quarters is the log-ratio of their upward and downward reach from the median level
    (98th and 2nd percentile, with a 0.1 mV floor). Small for 6×2, about 1 for 3×4 rows.
    """
    quarter = 0.25 * layout.duration_s * calibration.px_per_s
    floor = 0.1 * calibration.px_per_mv
    ratios = []
    for trace in traces[:3]:
        shapes = []
        for q in range(4):
            values = _row_values(trace, layout.x_origin + q * quarter + 3, layout.x_origin + (q + 1) * quarter - 3)
            if values.size < 8:
                break
            level = np.median(values)
            up = level - np.percentile(values, 2.0)  # image y grows downwards
            down = np.percentile(values, 98.0) - level
            shapes.append(np.log(np.array([up, down]) + floor))
        if len(shapes) < 4:
            continue
        within = 0.5 * (np.abs(shapes[0] - shapes[1]).sum() + np.abs(shapes[2] - shapes[3]).sum())
        across = np.abs(shapes[1] - shapes[2]).sum()
        ratios.append(within / max(across, 1e-3))
    return float(np.median(ratios)) if ratios else 1.0
