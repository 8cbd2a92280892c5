"""Trace extraction: a per-pixel trace probability, then one continuous path per row through it (Viterbi).

The classical probability map is the darkness of *uncoloured* ink relative to the local paper colour (so a grid of
any colour drops out), rescaled between the page's background level and its trace level. The learned segmenter
(:mod:`digitize.segment`) is used by the pipeline to drop the ink blobs it does not call trace; the strokes are
always measured on this sharp map (the network's half-resolution output fades at QRS tips).

The path is the minimum-cost route through the probability map, one state per pixel row, column by column
(dynamic programming, Viterbi 1967). Moving vertically costs little through ink and much across paper, so the path
follows steep QRS strokes but does not jump to a neighbouring row's trace that crosses its band; a weak pull
towards the row's baseline breaks ties. The min-plus step over all state pairs is computed exactly in O(height)
per column with cumulative minima, because the vertical cost is a distance along a 1-D monotone coordinate.
The path is then turned into samples along the pen's route through each column's ink run (entry → apex → exit),
so steep QRS strokes keep their full height (:func:`refine_path`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import cv2
import numpy as np

from digitize.preprocess import InkLayers

TraceMethod = Literal["classical"]
TRACE_METHODS: tuple[str, ...] = get_args(TraceMethod)

INK_LEVEL = 0.5
"""Probability above which a pixel counts as trace ink."""

GRID_LINE_LEVEL = 0.25
"""Ink darkness (0–1) from which a long straight vertical run counts as a grid line."""

GRID_LINE_MIN_MM = 30.0
"""Shortest unbroken vertical run (mm) taken for a grid line rather than a trace stroke."""

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
        Sample positions (px, increasing): where the pen crosses between columns (``i + 1/2``), plus column
        centres where the trace is flat or turns (an apex).
    y : ndarray (n,) float
        Trace position per sample (px, sub-pixel).
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


def without_vertical_lines(
    ink: np.ndarray, px_per_mm_y: float, *, min_length_mm: float = GRID_LINE_MIN_MM
) -> np.ndarray:
    """The ink layer with long straight vertical lines (a black-and-white grid's lines) set to 0.

    A line is a one-pixel column of dark ink (≥ :data:`GRID_LINE_LEVEL`) unbroken over ``min_length_mm``; trace
    strokes are slanted or shorter (a QRS upstroke lasts 20–40 ms, i.e. 0.5–1 mm along x). The columns next to
    such a line (its anti-aliased edge) go too. Where a trace crosses a line it loses ~one line width, which the
    path bridges.
    """
    length = int(round(min_length_mm * px_per_mm_y))
    if length < 8 or length >= ink.shape[0]:
        return ink
    dark = (ink >= GRID_LINE_LEVEL).astype(np.uint8)
    lines = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    if not lines.any():
        return ink
    lines = cv2.dilate(lines, np.ones((1, 3), np.uint8))
    out = ink.copy()
    out[lines > 0] = 0.0
    return out


def _classical_probability(ink: np.ndarray) -> np.ndarray:
    h, w = ink.shape
    # Levels from the inner page only: a desk edge or scanner border must not set the trace level.
    sample = ink[h // 20 : h - h // 20 : 3, w // 20 : w - w // 20 : 3]
    core = float(np.percentile(sample, 99.7))
    # Dense thick traces without a grid (12 rows) cover more than 5 % of the page: the paper level is then well
    # below the 95th percentile, which would otherwise sit on the traces themselves.
    low = max(min(float(np.percentile(sample, 95.0)), 0.6 * core), 0.06)
    high = max(core, low + 0.08)
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
    prob: np.ndarray,
    path_y: np.ndarray,
    x_start: int,
    *,
    line_px: float,
    reach_px: float = 400.0,
    row_strokes: bool = True,
    merge_spikes: bool = False,
) -> RowTrace:
    """Turn a pixel path into a sub-pixel trace: line centres on flat parts, stroke tips at peaks and troughs.

    The samples come from the ink run under the path in each column (its top and bottom edge), following the
    pen from column to column and out to the apex of a stroke that turns inside a column (see
    :func:`_column_samples`), so about 2.5 samples per column at 200 dpi and 25 mm/s. ``reach_px`` bounds
    how far a stroke may extend beyond the path (about one row spacing). ``row_strokes`` samples steep strokes
    row-wise (:func:`_with_stroke_samples`); off for coarse, blurred pages (see :data:`ROW_STROKE_MIN_PX_PER_MM`).
    ``merge_spikes`` reads a narrow QRS blurred into one blob as entry → apex(es) → exit (:func:`_merged_spikes`;
    for blurred, low-resolution photographs only: on sharp prints the per-column crossings are right and this loses
    detail); where it is on, the row-wise stroke samples are not used.
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
    x_rel, y_rel, column, steep = _column_samples(
        local.astype(np.float64), top, bottom, line_px, merge_spikes=merge_spikes
    )
    if row_strokes and not merge_spikes and steep.any():
        sub = prob[lo_y:hi_y, x_start : x_start + n]
        x_rel, y_rel, column = _with_stroke_samples(sub, x_rel, y_rel, column, steep & on_ink, top, bottom, line_px)
    strength = prob[ys, xs]
    return RowTrace(x_rel + x_start, y_rel + lo_y, on_ink[column], strength[column])


ROW_STROKE_MIN_PX_PER_MM = 5.8
"""Scale (px/mm) from which steep strokes are sampled row-wise. Measured on kit-dev: its photos (4.6–5.8 px/mm,
blurred, resampled) lose 0.75 dB with it, the 150–200 dpi prints (5.9–7.9 px/mm) gain 1–3.5 dB."""

STROKE_SPLIT_PX = 1.0
"""A row's ink run holding this much more ink (px) than one steep stroke holds two (a narrow wave's up- and
downstroke merged near its apex)."""

STROKE_MAX = 4.0
"""A row's ink run wider than this many line widths is no steep stroke (a flat stretch): not used."""


def _with_stroke_samples(
    prob: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    column: np.ndarray,
    steep: np.ndarray,
    top: np.ndarray,
    bottom: np.ndarray,
    line_px: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The column samples with those inside steep strokes replaced by row-wise stroke centres.

    In a column crossed by a steep stroke (a QRS up- or downstroke) the ink run says how high the pen went but not
    where along x: one sample per crossing between columns puts a 100-px stroke on a 1-px grid, and an error of a
    fraction of a pixel in x there is tens of pixels in y. Across each pixel *row* the stroke is a short
    anti-aliased run whose darkness-weighted centre locates the pen to a fraction of a pixel (the up- and
    downstroke of a narrow wave merge into one run near its apex: the run then holds two pens, each half a line
    width in from its edges). The apex samples of the column step keep their height; their x becomes the centre
    of the ink within a line width of the apex.
    """
    h, w = prob.shape
    keep = np.ones(x.size, dtype=bool)
    half = 0.5 * line_px
    margin = max(1.0, line_px)
    cols = np.flatnonzero(steep)
    starts = cols[np.r_[True, np.diff(cols) > 1]]
    ends = cols[np.r_[np.diff(cols) > 1, True]]
    found: list[tuple[int, int, list[tuple[float, float, float]]]] = []
    for a, b in zip(starts, ends, strict=True):
        c0, c1 = max(0, a - 2), min(w, b + 3)
        runs: list[tuple[float, float, float]] = []  # (centre, row, ink across the row)
        for row in range(int(top[a : b + 1].min()), int(bottom[a : b + 1].max()) + 1):
            covered = [i for i in range(a, b + 1) if top[i] + margin <= row <= bottom[i] - margin]
            if not covered:
                continue
            line = prob[row, c0:c1]
            for s, e in _runs(line >= RUN_LEVEL):
                if not any(s <= i - c0 <= e for i in covered):
                    continue
                lo, hi = max(0, s - 1), min(line.size, e + 2)
                weight = line[lo:hi]
                total = float(weight.sum())
                if 0 < total <= STROKE_MAX * line_px:
                    runs.append((c0 + lo + float(np.dot(np.arange(hi - lo), weight)) / total, row, total))
        if runs:
            found.append((a, b, runs))
    if not found:
        return x, y, column
    # the ink of one steep stroke across a row (a merged up- and downstroke holds more)
    stroke = float(np.median([r[2] for _, _, runs in found for r in runs]))
    new_x: list[float] = []
    new_y: list[float] = []
    new_c: list[int] = []
    for a, b, runs in found:
        inside = (x > a - 0.5 + 1e-6) & (x < b + 0.5 - 1e-6)
        near_end = (y < top[column] + line_px) | (y > bottom[column] - line_px)
        apex = inside & (np.abs(x - np.round(x)) < 0.4) & near_end
        up = apex & (y < top[column] + line_px)
        # one apex per direction and stroke run: the most extreme
        for mask, pick in ((up, np.argmin), (apex & ~up, np.argmax)):
            idx = np.flatnonzero(mask)
            if idx.size > 1:
                apex[idx] = False
                apex[idx[pick(y[idx])]] = True
        points = [
            (px, float(row))
            for centre, row, total in runs
            for px in _stroke_centres(centre, 0.5 * (total - stroke))
            if a - 0.5 < px < b + 0.5
        ]
        if not points or _zigzag(points, x[inside], y[inside]):
            continue
        keep &= ~(inside & ~apex)
        for k in np.flatnonzero(apex):
            i, level = int(column[k]), y[k]
            near = prob[max(0, int(level - half)) : int(level + half) + 1, max(0, i - 2) : min(w, i + 3)]
            weight = near.sum(axis=0)
            if weight.sum() > 0:
                x[k] = max(0, i - 2) + float(np.dot(np.arange(weight.size), weight)) / float(weight.sum())
        for px, py in points:
            new_x.append(px)
            new_y.append(py)
            new_c.append(int(min(max(round(px), a), b)))
    if not new_x:
        return x, y, column
    x = np.concatenate([x[keep], new_x])
    y = np.concatenate([y[keep], new_y])
    column = np.concatenate([column[keep], np.asarray(new_c, dtype=column.dtype)])
    order = np.argsort(x, kind="stable")
    x, y, column = x[order], y[order], column[order]
    distinct = np.r_[True, np.diff(x) > 1e-3]
    return x[distinct], y[distinct], column[distinct]


def _stroke_centres(centre: float, spread: float) -> tuple[float, ...]:
    """One pen position, or two (``centre ± spread``) when the row's run holds a merged up- and downstroke."""
    return (centre - spread, centre + spread) if spread > STROKE_SPLIT_PX / 2 else (centre,)


ZIGZAG_RATIO = 3.0
"""Row-wise stroke samples whose path is this many times longer in y than the column route's are not used."""


def _zigzag(points: list[tuple[float, float]], route_x: np.ndarray, route_y: np.ndarray) -> bool:
    """Whether the row-wise samples, in x order, go up and down more than the column route through the same columns
    (a separator bar, a label or another row's stroke in the rows: their centres interleave)."""
    ordered = np.asarray(sorted(points))
    travel = float(np.abs(np.diff(ordered[:, 1])).sum())
    route = float(np.abs(np.diff(route_y[np.argsort(route_x, kind="stable")])).sum()) if route_y.size > 1 else 0.0
    span = float(np.ptp(ordered[:, 1]))
    return travel > ZIGZAG_RATIO * max(route, 2.0 * span)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, end)]`` (inclusive) of the True runs of a 1-D boolean array."""
    padded = np.r_[False, mask, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e) - 1) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def _column_samples(
    path: np.ndarray, top: np.ndarray, bottom: np.ndarray, line_px: float, *, merge_spikes: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Samples along the pen's route from the ink run ``[top, bottom]`` under the path in every column.

    A stroke is drawn with a pen ``line_px`` wide, so the signal inside column ``i`` spans ``[top + w/2,
    bottom - w/2]``. Where the pen crosses from column ``i`` to ``i + 1`` its height lies in both columns' spans:
    the middle of their overlap (or of the gap between them) is taken as the sample at ``x = i + 1/2``. Inside a
    column, an end of the span that reaches beyond both crossings is an extreme the pen turned at (an R or S
    apex): it is a sample at ``x = i``; so the pen's route entry → extreme → exit is followed and narrow QRS
    complexes keep their full height. A flat column (span no taller than the line) adds its centre.

    A tall run whose nearest flat columns on both sides lie well inside it (not near one of its ends) belongs to
    a neighbouring row's stroke crossing this trace (or a separator tick): its span is replaced by the
    interpolation between those flat columns.

    Returns
    -------
    x : ndarray
        Sample positions relative to the first column (px).
    y : ndarray
        Sample heights (px, image y).
    column : ndarray of int
        Column each sample belongs to (for per-column attributes).
    steep : ndarray of bool
        Columns crossed by a steep stroke of this trace (tall and not another row's crossing).
    """
    n = path.size
    half = 0.5 * line_px
    centre = 0.5 * (top + bottom)
    hi = np.minimum(top + half, centre)  # smallest y the pen reached in the column
    lo = np.maximum(bottom - half, centre)
    tall = (bottom - top) > 2.0 * line_px + 1.0
    steep = tall.copy()
    margin = 2.0 * max(line_px, 1.5)
    flat_cols = np.flatnonzero(~tall)
    if flat_cols.size and tall.any():
        for i in np.flatnonzero(tall):
            k = int(np.searchsorted(flat_cols, i))
            if k == 0 or k >= flat_cols.size:
                continue
            left, right = flat_cols[k - 1], flat_cols[k]
            if right - left > 12:
                continue
            c_left, c_right = centre[left], centre[right]
            inside = [top[i] + margin < c < bottom[i] - margin for c in (c_left, c_right)]
            if all(inside):
                level = c_left + (c_right - c_left) * (i - left) / (right - left)
                hi[i] = lo[i] = level
                steep[i] = False
    # Crossing heights between neighbouring columns: middle of the overlap (or of the gap) of their spans.
    crossing = 0.5 * (np.maximum(hi[:-1], hi[1:]) + np.minimum(lo[:-1], lo[1:]))
    entry = np.concatenate([[centre[0]], crossing])
    exit_ = np.concatenate([crossing, [centre[-1]]])
    low_end = np.minimum(entry, exit_)
    high_end = np.maximum(entry, exit_)
    # A slanted pen line is taller than the line width: sqrt(1 + slope²) times (slope in px per column), so its
    # span passes the crossings by that much without the signal turning.
    slope = high_end - low_end
    tol = max(1.0, 0.5 * line_px) + half * (np.sqrt(1.0 + slope**2) - 1.0)
    apex_up = (low_end - hi) > tol  # the span reaches above both crossings
    apex_down = (lo - high_end) > tol
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    index = np.arange(n)
    # column centres: flat columns give their centre, apex columns their apex (both apexes: nearer one first)
    single_up = apex_up & ~apex_down
    single_down = apex_down & ~apex_up
    both = apex_up & apex_down
    flat = ~tall & ~apex_up & ~apex_down
    for mask, value, dx in (
        (flat, 0.5 * (hi + lo), 0.0),
        (single_up, hi, 0.0),
        (single_down, lo, 0.0),
    ):
        xs.append(index[mask] + dx)
        ys.append(value[mask])
        cols.append(index[mask])
    if both.any():
        up_first = np.abs(entry - hi) <= np.abs(entry - lo)
        first = np.where(up_first, hi, lo)
        second = np.where(up_first, lo, hi)
        xs += [index[both] - 1.0 / 6.0, index[both] + 1.0 / 6.0]
        ys += [first[both], second[both]]
        cols += [index[both], index[both]]
    keep_crossing = np.ones(n - 1, dtype=bool)
    for a, b in _merged_spikes(hi, lo, tall, line_px) if merge_spikes else []:
        # A narrow spike blurred into one blob: its columns' spans all cover it, so their crossings sit mid-blob
        # and the slant tolerance hides the apex. The pen went entry → apex(es) → exit across the blob instead.
        group = slice(a, b + 1)
        keep_crossing[a : b] = False
        drop = (index >= a) & (index <= b)
        for k, c in enumerate(cols):
            sel = ~drop[c]
            xs[k], ys[k], cols[k] = xs[k][sel], ys[k][sel], c[sel]
        into = entry[a]
        out_of = exit_[b]
        tip_up, tip_down = float(hi[group].min()), float(lo[group].max())
        flat_tol = max(1.0, 0.5 * line_px)
        apexes = []
        if min(into, out_of) - tip_up > flat_tol:
            apexes.append((float(np.mean(np.flatnonzero(hi[group] <= tip_up + 0.5))) + a, tip_up))
        if tip_down - max(into, out_of) > flat_tol:
            apexes.append((float(np.mean(np.flatnonzero(lo[group] >= tip_down - 0.5))) + a, tip_down))
        if len(apexes) == 2 and abs(apexes[0][0] - apexes[1][0]) < 1.0 / 3.0:
            # both tips at the same column: the nearer one to where the pen came in first
            centre_x = 0.5 * (apexes[0][0] + apexes[1][0])
            first, second = (tip_up, tip_down) if abs(into - tip_up) <= abs(into - tip_down) else (tip_down, tip_up)
            apexes = [(centre_x - 1.0 / 6.0, first), (centre_x + 1.0 / 6.0, second)]
        for ax, ay in apexes:
            xs.append(np.array([ax]))
            ys.append(np.array([ay]))
            cols.append(np.array([int(np.clip(round(ax), a, b))]))
    xs.append(index[:-1][keep_crossing] + 0.5)
    ys.append(crossing[keep_crossing])
    cols.append(index[:-1][keep_crossing])
    x = np.concatenate(xs)
    order = np.argsort(x, kind="stable")
    return x[order], np.concatenate(ys)[order], np.concatenate(cols)[order], steep


MERGED_OVERLAP = 0.6
"""Share of the shorter of two neighbouring tall spans they must share to be one blurred spike (see below)."""


def _merged_spikes(hi: np.ndarray, lo: np.ndarray, tall: np.ndarray, line_px: float) -> list[tuple[int, int]]:
    """Column ranges ``(a, b)`` (inclusive, ≥ 2 columns) of a narrow QRS spike blurred into one blob.

    At ~5 px/mm with blur (photographs) an R wave's up- and down-strokes fall into the same 2–4 columns, and every
    column's ink span covers nearly the whole spike. Neighbouring tall columns whose spans share at least
    :data:`MERGED_OVERLAP` of the shorter one, and more than three line widths, are grouped.
    """
    span = lo - hi
    overlap = np.minimum(lo[:-1], lo[1:]) - np.maximum(hi[:-1], hi[1:])
    shorter = np.minimum(span[:-1], span[1:])
    linked = tall[:-1] & tall[1:] & (overlap > MERGED_OVERLAP * shorter) & (overlap > 3.0 * line_px)
    groups: list[tuple[int, int]] = []
    i = 0
    while i < linked.size:
        if linked[i]:
            j = i
            while j + 1 < linked.size and linked[j + 1]:
                j += 1
            groups.append((i, j + 1))
            i = j + 1
        else:
            i += 1
    return groups


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

