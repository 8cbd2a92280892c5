"""The calibration pulse: a 1 mV, 0.2 s rectangle at the start of a row, found in the trace map and measured to a
fraction of a pixel (stroke centre to stroke centre)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PULSE_WIDTH_RANGE_MM = (2.0, 13.0)
"""Widths (mm) a calibration pulse may have: 5 mm at 25 mm/s, 10 mm at 50 mm/s, with slack for the stroke."""


@dataclass(frozen=True)
class Pulse:
    """A calibration pulse found at the start of a row (pixels of the rectified image)."""

    x_start: float
    x_end: float
    height_px: float
    baseline_y: float
    width_px: float | None = None
    """Distance between the rising and the falling edge (px; the stroke width taken off). None: ``x_end - x_start``."""

    @property
    def step_width_px(self) -> float:
        """Width of the pulse's step (px): 0.2 s of paper."""
        return float(self.width_px) if self.width_px is not None else float(self.x_end - self.x_start)


def find_pulse(
    trace_prob: np.ndarray,
    baseline_y: float,
    x_lo: int,
    x_hi: int,
    *,
    px_per_mm_x: float,
    band_px: tuple[int, int],
    min_height_mm: float = 3.0,
    require_rising_edge: bool = False,
    ink_level: float = 0.5,
) -> Pulse | None:
    """Find a rectangular calibration pulse standing on the row's baseline between ``x_lo`` and ``x_hi``.

    Parameters
    ----------
    trace_prob : ndarray (H, W)
        Trace probability (0–1).
    baseline_y : float
        The row's baseline (px).
    x_lo, x_hi : int
        Columns to search (the start of the row).
    px_per_mm_x : float
        Horizontal scale, to check the pulse width (:data:`PULSE_WIDTH_RANGE_MM`).
    band_px : (int, int)
        Rows ``[top, bottom)`` of the row's band.
    min_height_mm : float
        Lowest pulse counted (mm; a 5 mm/mV pulse is 5 mm tall).
    require_rising_edge : bool
        Also require an unbroken vertical stroke from the baseline up (stricter: rejects a neighbouring row's flat
        stretch, but also some blurred photo pulses; used by the orientation check).
    ink_level : float
        Trace probability counted as ink (a thin trace at low resolution stays below 0.5 on its flat parts).
    """
    top, bottom = max(0, band_px[0]), min(trace_prob.shape[0], band_px[1])
    x_lo, x_hi = max(0, x_lo), min(trace_prob.shape[1], x_hi)
    if x_hi - x_lo < 4 or bottom - top < 4:
        return None
    window = trace_prob[top:bottom, x_lo:x_hi] > ink_level
    has_ink = window.any(axis=0)
    first_ink = np.where(has_ink, window.argmax(axis=0), window.shape[0]) + top
    heights = baseline_y - first_ink
    tall = heights > min_height_mm * px_per_mm_x
    best: Pulse | None = None
    for start, stop in _runs(tall):
        width_mm = (stop - start) / px_per_mm_x
        if not PULSE_WIDTH_RANGE_MM[0] <= width_mm <= PULSE_WIDTH_RANGE_MM[1]:
            continue
        stop = _falling_edge(window, start, stop, baseline_y - top, float(np.median(heights[start:stop])), px_per_mm_x)
        plateau = heights[start:stop]
        level = float(np.median(plateau))
        if np.mean(np.abs(plateau - level) < 0.1 * level + 2) < 0.7:
            continue  # not flat-topped: a QRS complex, not a pulse
        if require_rising_edge and not _has_rising_edge(window, start, baseline_y - top, level):
            continue  # a neighbouring row's flat stretch reaching into the band, not a step up from the baseline
        stroke = _stroke_px(window[:, start:stop], first_ink[start:stop] - top)
        region = trace_prob[top:bottom, x_lo:x_hi]
        height, width = _pulse_size(region, first_ink - top, has_ink, start, stop, stroke, baseline_y - top, level)
        candidate = Pulse(float(x_lo + start), float(x_lo + stop), height, float(baseline_y), width)
        if best is None or candidate.x_start < best.x_start:
            best = candidate
    return best


TRIM_MM = 1.5
"""A run is cut at its falling edge only when that shortens it by more than this (mm): a label fused to the pulse."""


def _falling_edge(window: np.ndarray, start: int, stop: int, baseline: float, level: float, px_per_mm: float) -> int:
    """End of the pulse's run at its falling edge: the first vertical stroke (ink over ≥ 80 % of the step's middle
    height) at least 2 mm after the start. A printed lead label right of the pulse, at its top's height, otherwise
    widens the run (foreign 12×1 prints: 10–11 mm read for a 5 mm pulse, taken for 50 mm/s)."""
    lo, hi = max(0, int(round(baseline - 0.85 * level))), min(window.shape[0], int(round(baseline - 0.15 * level)))
    if hi - lo < 3:
        return stop
    vertical = np.flatnonzero(window[lo:hi, start:stop].mean(axis=0) >= 0.8)
    later = vertical[vertical >= 2.0 * px_per_mm]
    if later.size == 0:
        return stop
    end = int(later[0])
    while end + 1 < window.shape[1] - start and end + 1 in later:
        end += 1
    trimmed = start + end + 1
    # Only a clearly wider run is cut (its end moves the time origin; a stroke's width is left as it was).
    return trimmed if stop - trimmed > TRIM_MM * px_per_mm else stop


def _has_rising_edge(window: np.ndarray, start: int, baseline: float, level: float) -> bool:
    """Whether ink joins the baseline to the top along the run's first columns (a vertical stroke, ≥ 80 %)."""
    lo, hi = int(round(baseline - 0.85 * level)), int(round(baseline - 0.15 * level))
    lo, hi = max(0, lo), min(window.shape[0], hi)
    if hi <= lo:
        return False
    edge = window[lo:hi, max(0, start - 1) : start + 3].any(axis=1)
    return bool(edge.mean() >= 0.8)


def _stroke_px(window: np.ndarray, first: np.ndarray) -> float:
    """Median thickness (px) of the ink run that starts at each column's first ink (the pulse's top stroke)."""
    lengths = []
    for column, y0 in enumerate(first):
        if y0 >= window.shape[0]:
            continue
        below = window[y0:, column]
        gap = np.flatnonzero(~below)
        lengths.append(int(gap[0]) if gap.size else below.size)
    return float(np.median(lengths)) if lengths else 0.0


def _pulse_size(
    prob: np.ndarray,
    first: np.ndarray,
    has_ink: np.ndarray,
    start: int,
    stop: int,
    stroke: float,
    baseline: float,
    level: float,
) -> tuple[float, float]:
    """Sub-pixel height and width of a pulse (px), centre of stroke to centre of stroke.

    Height: the top stroke's centre (probability-weighted, median over the plateau's columns) to the centre of the
    baseline stroke just before and after the pulse; width: the rising edge's centre to the falling edge's, over
    the middle half of the step's height. Falls back to whole-pixel run measures where a part is missing.
    """
    reach = int(np.ceil(stroke)) + 1
    tops = [_centre(prob[:, c], first[c], reach) for c in range(start + reach, stop - reach) if has_ink[c]]
    side = max(2, (stop - start) // 4)
    sides = [
        c
        for c in (*range(max(0, start - side), start - reach), *range(stop + reach, stop + side))
        if 0 <= c < prob.shape[1] and has_ink[c] and abs(first[c] - baseline) < 0.25 * level
    ]
    feet = [_centre(prob[:, c], first[c], reach) for c in sides]
    if tops and len(feet) >= 2:
        top_y, foot_y = float(np.median(tops)), float(np.median(feet))
        height = foot_y - top_y
    else:
        top_y, height = baseline - level + 0.5 * stroke, level - 0.5 * stroke
    rows = range(int(top_y + 0.25 * height), int(top_y + 0.75 * height) + 1)
    widths = [
        _centre(prob[r], stop - 1 - reach, reach) - _centre(prob[r], start, reach)
        for r in rows
        if 0 <= r < prob.shape[0]
    ]
    width = float(np.median(widths)) if widths else float(stop - start - stroke)
    if not (0.7 * (stop - start - stroke) < width < 1.3 * (stop - start)):
        width = float(stop - start - stroke)
    return float(height), width


def _centre(values: np.ndarray, first: int, reach: int) -> float:
    """Probability-weighted centre of ``values[first : first + reach]`` (one stroke's cross-section)."""
    lo, hi = max(0, int(first) - 1), min(values.size, int(first) + reach + 1)
    weights = np.clip(values[lo:hi].astype(np.float64), 0.0, None)
    if weights.sum() <= 0:
        return float(first) + 0.5 * reach
    return float(lo + (weights * np.arange(hi - lo)).sum() / weights.sum())


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2], strict=True))
