"""Trace extraction: a per-pixel trace probability, then one continuous path per row through it (Viterbi).

The classical probability map is the darkness of *uncoloured* ink relative to the local paper colour (so a grid of
any colour drops out), rescaled between the page's background level and its trace level. A learned segmenter can
replace it behind :func:`trace_probability` (``method=``).

The path is the minimum-cost route through the probability map, one state per pixel row, column by column
(dynamic programming, Viterbi 1967). Moving vertically costs little through ink and much across paper, so the path
follows steep QRS strokes but does not jump to a neighbouring row's trace that crosses its band; a weak pull
towards the row's baseline breaks ties. The min-plus step over all state pairs is computed exactly in O(height)
per column with cumulative minima, because the vertical cost is a distance along a 1-D monotone coordinate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from digitize.preprocess import InkLayers

TraceMethod = Literal["classical"]
TRACE_METHODS: tuple[str, ...] = ("classical",)

INK_LEVEL = 0.5
"""Probability above which a pixel counts as trace ink."""

RUN_LEVEL = 0.3
"""Lower level used for the extent of a stroke (its anti-aliased tip is fainter than its core)."""


@dataclass(frozen=True)
class PathCosts:
    """Weights of the Viterbi path cost (all per pixel or per column; dimensionless).

    Attributes
    ----------
    floor : float
        Probability floor inside ``-log(p + floor)``: the cost of a column where the path sees no ink.
    move_ink : float
        Cost per pixel of vertical movement through ink.
    move_paper : float
        Extra cost per pixel of vertical movement across paper (a jump over a gap).
    baseline_pull : float
        Cost per column per row-spacing of distance from the row's baseline.
    """

    floor: float = 0.02
    move_ink: float = 0.01
    move_paper: float = 0.6
    baseline_pull: float = 0.4


@dataclass(frozen=True)
class RowTrace:
    """The extracted trace of one row, in rectified-image pixels.

    Attributes
    ----------
    x : ndarray (n,) float
        Sample positions (px): two per column, a quarter pixel either side of its centre.
    y : ndarray (n,) float
        Trace position per sample (px, sub-pixel; a stroke's entry and exit ends in steep columns).
    on_ink : ndarray (n,) bool
        Whether the path found ink in that sample's column (False = bridged a gap).
    strength : ndarray (n,) float
        Trace probability under the path.
    """

    x: np.ndarray
    y: np.ndarray
    on_ink: np.ndarray
    strength: np.ndarray


def trace_probability(layers: InkLayers, *, method: TraceMethod = "classical") -> np.ndarray:
    """Per-pixel probability (0–1, float32) that a pixel belongs to an ECG trace.

    Parameters
    ----------
    layers : InkLayers
        Ink and grid darkness of the rectified image (:func:`digitize.preprocess.ink_layers`).
    method : {"classical"}
        ``"classical"``: ink darkness rescaled between the page's 95th percentile (paper, and the grid of a
        black-and-white printout) and its 99.7th (trace core).
    """
    if method not in TRACE_METHODS:
        raise ValueError(f"unknown trace method {method!r}; valid methods: {', '.join(TRACE_METHODS)}")
    return _classical_probability(layers.ink)


def _classical_probability(ink: np.ndarray) -> np.ndarray:
    h, w = ink.shape
    # Levels from the inner page only: a desk edge or scanner border must not set the trace level.
    sample = ink[h // 20 : h - h // 20 : 3, w // 20 : w - w // 20 : 3]
    low = max(float(np.percentile(sample, 95.0)), 0.06)
    high = max(float(np.percentile(sample, 99.7)), low + 0.08)
    prob = (ink - np.float32(low)) * np.float32(1.0 / (high - low))
    return np.clip(prob, 0.0, 1.0, out=prob).astype(np.float32, copy=False)


def viterbi_rows(
    prob: np.ndarray,
    baselines: Sequence[float],
    spacing_px: float,
    x_range: tuple[int, int],
    *,
    costs: PathCosts = PathCosts(),
    blocked: Sequence[tuple[int, int]] | None = None,
) -> list[np.ndarray]:
    """Minimum-cost path (one y per column) for each row, all rows solved together.

    Parameters
    ----------
    prob : ndarray (H, W)
        Trace probability.
    baselines : sequence of float
        Each row's baseline y (px).
    spacing_px : float
        Distance between neighbouring rows (px): a row's band reaches one spacing above and below its baseline.
    x_range : (int, int)
        Columns ``[start, stop)`` to trace.
    costs : PathCosts
        Cost weights.
    blocked : sequence of (int, int), optional
        Per row, columns ``[start, stop)`` whose ink is ignored (the calibration pulse).

    Returns
    -------
    list of ndarray (stop - start,) int
        Path rows (image y) per row.
    """
    x0, x1 = x_range
    n_rows = len(baselines)
    reach = int(round(spacing_px))
    height = 2 * reach + 1
    image_h = prob.shape[0]
    tops = [int(round(b)) - reach for b in baselines]
    bands = np.zeros((n_rows, height, x1 - x0), dtype=np.float32)
    for r, top in enumerate(tops):
        lo, hi = max(0, top), min(image_h, top + height)
        if hi > lo:
            bands[r, lo - top : hi - top] = prob[lo:hi, x0:x1]
        if blocked is not None and blocked[r] is not None:
            b0, b1 = blocked[r]
            bands[r, :, max(0, b0 - x0) : max(0, b1 - x0)] = 0.0
    # Saturate at the ink level: anything surely ink is equally good to stand on and free to climb through.
    np.minimum(bands * np.float32(1.0 / INK_LEVEL), 1.0, out=bands)
    emission = -np.log(bands + np.float32(costs.floor))
    emission += (costs.baseline_pull / max(spacing_px, 1.0)) * np.abs(np.arange(height, dtype=np.float32) - reach)[
        None, :, None
    ]
    move = costs.move_ink + costs.move_paper * (1.0 - bands)
    index = np.arange(height, dtype=np.int32)[None, :]
    back = np.empty((x1 - x0, n_rows, height), dtype=np.int32)
    score = emission[:, :, 0].copy()
    back[0] = index
    for col in range(1, x1 - x0):
        step = np.minimum(move[:, :, col - 1], move[:, :, col])
        coord = np.cumsum(step, axis=1)
        up = score - coord  # arriving from a smaller y: cost D(y') + C(y) - C(y')
        up_min = np.minimum.accumulate(up, axis=1)
        up_arg = np.maximum.accumulate(np.where(up <= up_min, index, 0), axis=1)
        down = score + coord  # arriving from a larger y: D(y') + C(y') - C(y)
        down_min = np.minimum.accumulate(down[:, ::-1], axis=1)[:, ::-1]
        down_arg = np.minimum.accumulate(np.where(down <= down_min, index, height)[:, ::-1], axis=1)[:, ::-1]
        via_up = coord + up_min
        via_down = down_min - coord
        take_up = via_up <= via_down
        score = np.where(take_up, via_up, via_down) + emission[:, :, col]
        back[col] = np.where(take_up, up_arg, down_arg)
    paths = np.empty((n_rows, x1 - x0), dtype=np.int64)
    state = np.argmin(score, axis=1)
    rows = np.arange(n_rows)
    for col in range(x1 - x0 - 1, -1, -1):
        paths[:, col] = state
        state = back[col, rows, state]
    return [paths[r] + tops[r] for r in range(n_rows)]


def refine_path(
    prob: np.ndarray, path_y: np.ndarray, x_start: int, *, line_px: float, reach_px: float = 400.0
) -> RowTrace:
    """Turn a pixel path into a sub-pixel trace: line centres on flat parts, stroke tips at peaks and troughs.

    Each column's sample comes from the ink run under the path (top and bottom edge). A short run is a flat
    stretch: its centre is the sample. In a long run (a steep stroke) the signal turned where the run's top edge
    is higher than both neighbours' (an R-wave apex: top + half a line width) or its bottom edge lower (an S wave);
    otherwise the stroke is passing through and the path position, kept inside the run, is the sample.
    ``reach_px`` bounds how far a stroke may extend beyond the path (about one row spacing).
    """
    n = path_y.size
    xs = np.arange(x_start, x_start + n)
    ys = np.clip(path_y, 0, prob.shape[0] - 1).astype(np.int64)
    lo_y = max(0, int(ys.min() - reach_px))
    hi_y = min(prob.shape[0], int(ys.max() + reach_px) + 1)
    window = prob[lo_y:hi_y, x_start : x_start + n] >= RUN_LEVEL
    h = window.shape[0]
    local = ys - lo_y
    cols = np.arange(n)
    # Snap a path pixel that just misses the ink (anti-aliased apex) onto the nearest ink within a line width.
    reach = max(1, int(round(line_px)))
    on_ink = window[local, cols]
    for step in range(1, reach + 1):
        for sign in (-1, 1):
            cand = np.clip(local + sign * step, 0, h - 1)
            hit = ~on_ink & window[cand, cols]
            local = np.where(hit, cand, local)
            on_ink = on_ink | hit
    rows = np.arange(h)[:, None]
    above = np.maximum.accumulate(np.where(~window, rows, -1), axis=0)
    below = np.minimum.accumulate(np.where(~window, rows, h)[::-1], axis=0)[::-1]
    top = np.where(on_ink, above[local, cols] + 1, local).astype(np.float64)
    bottom = np.where(on_ink, below[local, cols] - 1, local).astype(np.float64)
    value_a, value_b = _stroke_samples(local.astype(np.float64), top, bottom, line_px)
    strength = prob[ys, xs]
    x_out = np.repeat(xs.astype(np.float64), 2) + np.tile([-0.25, 0.25], n)
    y_out = np.column_stack([value_a, value_b]).ravel() + lo_y
    return RowTrace(x_out, y_out, np.repeat(on_ink, 2), np.repeat(strength, 2))


def _stroke_samples(
    path: np.ndarray, top: np.ndarray, bottom: np.ndarray, line_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Two samples per column (entry, exit) from the ink run ``[top, bottom]`` under the path.

    A column whose run is no taller than the line is flat: both samples are its centre. A taller run is a stroke
    the pen drew within that column: it is entered at the end nearer to where the previous column left off and
    left at the other end, so apexes of narrow QRS complexes keep their full height. When the previous sample lies
    well inside the run (a neighbouring row's stroke crossing this trace, or a lead-separator tick), the run is
    not this trace's stroke and the path position is kept.
    """
    half = 0.5 * line_px
    n = path.size
    first = np.empty(n)
    second = np.empty(n)
    hi_end = top + half
    lo_end = np.maximum(bottom - half, hi_end)
    tall = (bottom - top) > 2.0 * line_px + 1.0
    margin = max(2.0, line_px)
    previous = float(np.clip(path[0], hi_end[0], lo_end[0]))
    for i in range(n):
        if not tall[i]:
            centre = 0.5 * (top[i] + bottom[i])
            first[i] = second[i] = centre
        elif min(previous - hi_end[i], lo_end[i] - previous) <= margin:
            if previous - hi_end[i] <= lo_end[i] - previous:  # arrived at the top: the stroke goes down
                first[i], second[i] = hi_end[i], lo_end[i]
            else:  # arrived at the bottom: the stroke goes up
                first[i], second[i] = lo_end[i], hi_end[i]
        else:
            first[i] = second[i] = float(np.clip(path[i], hi_end[i], lo_end[i]))
        previous = second[i]
    return first, second


def line_width_px(prob: np.ndarray, path_y: np.ndarray, x_start: int) -> float:
    """Typical trace thickness (px): the median ink-run length under the path where the trace is flat."""
    n = path_y.size
    flat = np.abs(np.diff(path_y, prepend=path_y[0])) <= 1
    cols = np.flatnonzero(flat)[:: max(1, n // 300)]
    lengths = []
    for c in cols:
        y = int(path_y[c])
        column = prob[max(0, y - 15) : y + 16, x_start + c] >= RUN_LEVEL
        if column.size and column[min(15, y)]:
            centre = min(15, y)
            up = centre
            while up > 0 and column[up - 1]:
                up -= 1
            down = centre
            while down < column.size - 1 and column[down + 1]:
                down += 1
            lengths.append(down - up + 1)
    return float(np.median(lengths)) if lengths else 2.0
