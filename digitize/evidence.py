"""Is this an ECG at all? Evidence from the traced rows, so that noise, text pages and photos of other things are
refused ("no ECG found") instead of being digitized.

An ECG trace is a thin continuous line: the path runs on ink while the paper a few millimetres above and below it is
clear, and it holds one level between beats. Random noise has ink everywhere (no contrast between the path and its
surroundings); a text line has ink in short letter-sized pieces (the path bridges gaps and jumps up and down); a
photo's edges are rarely both long and thin. The measures below are per row and the best rows decide:

* **contrast**: mean trace probability on the path minus the mean at ±1.5 mm beside it (0–1; a trace on clean
  paper ≈ 0.6–0.9; noise ≈ 0);
* **ink share**: the share of the page at probability ≥ 0.5 (traces and labels cover a few per cent; noise half);
* **on ink**: the share of the path's columns that found ink (not bridged);
* **grid**: the grid's periodicity, and whether any calibration pulse was found;
* **beats**: QRS-like deflections in the best row (needed when there is no clear grid: ruled paper and
  handwriting draw long lines, but nothing that beats).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import find_peaks

from digitize.calibrate import Calibration
from digitize.layout import Layout
from digitize.load import NoEcgFoundError
from digitize.trace import RowTrace

SIDE_MM = 1.5
"""Distance (mm) beside the path where the paper should be clear of the trace."""

MIN_CONTRAST = 0.25
"""Median contrast the best half of the rows must reach (set on kit-dev and DataSynth renders versus noise, text
pages and photos of other things: see docs/notes/issue-15.md)."""

MAX_INK_SHARE = 0.25
"""Largest share of the page that may be ink for an ECG (dense noise and texture exceed it)."""

MIN_ON_INK = 0.7
"""Median share of path columns on ink the best half of the rows needs."""

MIN_BEATS_IN_ROW = 3
"""QRS-like deflections the best row must show when nothing else (grid, calibration pulse) says the image is an ECG:
a 10 s row at 30 bpm has 5; the edges of a photo of something else (hills, roofs) give 0–2."""

QRS_MIN_MM = 3.0
"""Smallest QRS-like deflection (mm on paper: 0.3 mV at 10 mm/mV) counted by :func:`qrs_like_deflections`."""

QRS_MAX_HALF_WIDTH_S = 0.12
"""Largest width at half height (s) of a QRS-like deflection."""


def qrs_like_deflections(trace: RowTrace, calibration: Calibration, *, min_mm: float = QRS_MIN_MM) -> int:
    """Sharp deflections of a row trace, up or down (whichever is more): peaks at least ``min_mm`` above the
    0.4 s running median and at most :data:`QRS_MAX_HALF_WIDTH_S` wide at half height."""
    if trace.x.size < 2:
        return 0
    columns = np.arange(trace.x.min(), trace.x.max(), 1.0)
    height_mm = -np.interp(columns, trace.x, trace.y) / calibration.px_per_mm_y
    window = max(3, int(0.4 * calibration.px_per_s)) | 1
    detail = height_mm - median_filter(height_mm, window, mode="nearest")
    max_width = QRS_MAX_HALF_WIDTH_S * calibration.px_per_s
    return max(
        len(find_peaks(signal, prominence=min_mm, width=(None, max_width), rel_height=0.5)[0])
        for signal in (detail, -detail)
    )


NO_GRID_ON_INK = 0.85
"""Share of path columns on ink needed without a clear grid (ECGs without a grid, all DataSynth renders with grid
periodicity < 0.3: ≥ 0.97; a ruled notebook page with handwriting: 0.77)."""

STRONG_GRID = 0.3
"""Grid periodicity above which the page counts as ECG paper whatever the traces look like (their confidence then
says how well they were read)."""


@dataclass(frozen=True)
class EcgEvidence:
    """How much the image looks like an ECG (see the module docstring)."""

    contrast: float
    ink_share: float
    on_ink: float
    grid_strength: float
    pulses: int
    beats: int = MIN_BEATS_IN_ROW

    @property
    def is_ecg(self) -> bool:
        if self.ink_share > MAX_INK_SHARE:
            return False
        if self.grid_strength < STRONG_GRID and (self.beats < MIN_BEATS_IN_ROW or self.on_ink < NO_GRID_ON_INK):
            return False  # no ECG paper, and nothing that beats like a heart along continuous lines
        return self.contrast >= MIN_CONTRAST and self.on_ink >= MIN_ON_INK

    def reason(self) -> str:
        if self.ink_share > MAX_INK_SHARE:
            return f"ink covers {100 * self.ink_share:.0f} % of the image (noise or texture, not a paper ECG)"
        if self.grid_strength < STRONG_GRID and self.beats < MIN_BEATS_IN_ROW:
            return f"no ECG grid and no heartbeat-like deflections (at most {self.beats} in a row)"
        if self.grid_strength < STRONG_GRID and self.on_ink < NO_GRID_ON_INK:
            return f"no ECG grid and no continuous trace lines (path on ink {100 * self.on_ink:.0f} %)"
        return (
            f"no trace-like lines (contrast {self.contrast:.2f}, path on ink {100 * self.on_ink:.0f} %), "
            f"grid periodicity {self.grid_strength:.2f}"
        )


def row_contrast(prob: np.ndarray, trace: RowTrace, side_px: float) -> float:
    """Mean probability on the path minus the mean of the two sides ``side_px`` above and below it."""
    if trace.x.size < 2:
        return 0.0
    columns = np.arange(int(np.ceil(trace.x.min())), int(trace.x.max()))
    columns = columns[(columns >= 0) & (columns < prob.shape[1])]
    if columns.size < 8:
        return 0.0
    y = np.interp(columns, trace.x, trace.y)
    h = prob.shape[0]

    def at(offset: float) -> np.ndarray:
        rows = np.clip(np.round(y + offset).astype(int), 0, h - 1)
        return prob[rows, columns]

    # the path's own level: the best of the pixel and its neighbours (the line is 1–3 px thick)
    on = np.maximum(np.maximum(at(0.0), at(-1.0)), at(1.0))
    beside = 0.5 * (at(-side_px) + at(side_px))
    return float(np.mean(on) - np.mean(beside))


def ecg_evidence(
    prob: np.ndarray, traces: Sequence[RowTrace], layout: Layout, calibration: Calibration
) -> EcgEvidence:
    """Evidence that ``traces`` are ECG traces (the best half of the rows count: a rhythm row may be blank)."""
    side = SIDE_MM * calibration.px_per_mm_y
    contrasts = sorted((row_contrast(prob, t, side) for t in traces), reverse=True)
    on_inks = sorted((float(t.on_ink.mean()) if t.on_ink.size else 0.0 for t in traces), reverse=True)
    half = max(1, (len(traces) + 1) // 2)
    return EcgEvidence(
        contrast=float(np.median(contrasts[:half])) if contrasts else 0.0,
        ink_share=float((prob[::2, ::2] >= 0.5).mean()),
        on_ink=float(np.median(on_inks[:half])) if on_inks else 0.0,
        grid_strength=float(calibration.grid_strength) if calibration.source == "grid" else 0.0,
        pulses=sum(p is not None for p in layout.pulses),
        beats=max((qrs_like_deflections(t, calibration) for t in traces), default=0),
    )


def require_ecg(evidence: EcgEvidence) -> None:
    """Raise :class:`NoEcgFoundError` unless ``evidence`` says the image is an ECG."""
    if not evidence.is_ecg:
        raise NoEcgFoundError(f"no ECG found: {evidence.reason()}")


PHANTOM_DEFLECTION_MM = 1.0
"""Smallest deflection (mm) counted when asking whether a row beats at all (a low-voltage lead's QRS reaches it;
a page border or a ruled line never does)."""

PHANTOM_MIN_BEATS = 2
"""Deflections of :data:`PHANTOM_DEFLECTION_MM` a real row shows at least (foreign test: real rows 8–47; the page
border lines of f0015: 0)."""

PHANTOM_MAX_SPREAD_MM = 8.0
"""Standard deviation (mm) of the path's height above which a row in the page's edge zone wanders across the page
instead of running along one row (foreign test: real rows 0.5–4.1 mm, the header and page-edge paths of f0042:
11–13 mm). Not used inside the page: real rows of a messy scan jump between rows (kit-dev d022: 8.9 and 14 mm)."""


EDGE_ZONE = 0.05
"""Share of the page height at the top and the bottom where a row must show QRS-sized deflections
(:data:`MIN_BEATS_IN_ROW` of :data:`QRS_MIN_MM`) and stay along one line (spread ≤ :data:`PHANTOM_MAX_SPREAD_MM`):
page borders, headers, scanner shadows and a photo's page edge lie there (kit-dev d036: a border line with 2 small
wiggles, its bottom edge with 1 QRS-sized deflection; foreign test f0042: the header at 4.2 % with none, the page
edge at 96.4 % with a path spread over 11 mm). 12×1 rhythm strips at 95.3–95.7 % show 12–15."""


@dataclass(frozen=True)
class RowFigures:
    """How ECG-like one traced row is (see :func:`row_figures`)."""

    contrast: float
    on_ink: float
    beats: int
    """Deflections of at least :data:`PHANTOM_DEFLECTION_MM`."""
    qrs: int
    """Deflections of at least :data:`QRS_MIN_MM`."""
    spread_mm: float
    at_edge: bool
    """The row lies in the page's top or bottom :data:`EDGE_ZONE`."""

    @property
    def phantom(self) -> bool:
        """No ECG trace: a flat line (page border, ruled line), or at the page's edge a row without QRS-sized
        deflections or wandering across the page.

        Path on ink and contrast are not used: a real row of a dirty scan reached only 60 % and 0.35 (kit-dev d022).
        """
        edge_phantom = self.qrs < MIN_BEATS_IN_ROW or self.spread_mm > PHANTOM_MAX_SPREAD_MM
        return self.beats < PHANTOM_MIN_BEATS or (self.at_edge and edge_phantom)

    def describe(self) -> str:
        return (
            f"contrast {self.contrast:.2f}, path on ink {100 * self.on_ink:.0f} %, {self.beats} deflections "
            f"({self.qrs} QRS-sized), spread {self.spread_mm:.1f} mm{', at the page edge' if self.at_edge else ''}"
        )


def row_figures(prob: np.ndarray, trace: RowTrace, calibration: Calibration, baseline: float) -> RowFigures:
    """Contrast, path on ink, deflections and height spread of one row trace whose baseline is at ``baseline``."""
    height = prob.shape[0]
    at_edge = not EDGE_ZONE * height <= baseline <= (1.0 - EDGE_ZONE) * height
    if trace.x.size < 2:
        return RowFigures(0.0, 0.0, 0, 0, 0.0, at_edge)
    return RowFigures(
        contrast=row_contrast(prob, trace, SIDE_MM * calibration.px_per_mm_y),
        on_ink=float(trace.on_ink.mean()),
        beats=qrs_like_deflections(trace, calibration, min_mm=PHANTOM_DEFLECTION_MM),
        qrs=qrs_like_deflections(trace, calibration),
        spread_mm=float(np.std(trace.y)) / calibration.px_per_mm_y,
        at_edge=at_edge,
    )


def phantom_rows(
    prob: np.ndarray, traces: Sequence[RowTrace], calibration: Calibration, baselines: Sequence[float]
) -> list[tuple[int, str]]:
    """Rows at the top or bottom of the stack that carry no ECG-like trace (page borders, header text, crease
    shadows), with why; peeled from the outside in, and never more than leaves 3 rows. Rows inside the stack are
    kept whatever they look like (a flat lead is still a lead)."""
    figures = [row_figures(prob, t, calibration, y) for t, y in zip(traces, baselines, strict=True)]
    lo, hi = 0, len(traces)
    dropped: list[tuple[int, str]] = []
    while hi - lo > 3:
        if figures[lo].phantom:
            dropped.append((lo, figures[lo].describe()))
            lo += 1
        elif figures[hi - 1].phantom:
            dropped.append((hi - 1, figures[hi - 1].describe()))
            hi -= 1
        else:
            break
    return dropped
