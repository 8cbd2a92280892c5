"""Draw what the digitizer saw on the input image: the detected grid, the extracted traces and the lead names.

Everything is found in the rectified image and mapped back through the inverse homography, so the overlay lines up
with the photo or scan the user supplied.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from digitize.calibrate import Calibration
from digitize.layout import Layout
from digitize.trace import RowTrace

TRACE_COLOUR = (0, 110, 255)
"""RGB of the extracted traces (blue: contrasts with red, pink, orange and grey grids)."""

ALT_TRACE_COLOUR = (255, 120, 0)
"""RGB used instead when the grid itself is bluish."""

GRID_COLOUR = (0, 170, 120)
LABEL_COLOUR = (150, 0, 170)


def draw_overlay(
    image: np.ndarray,
    homography: np.ndarray,
    traces: Sequence[RowTrace],
    layout: Layout,
    calibration: Calibration,
) -> np.ndarray:
    """RGB copy of ``image`` with the detected grid (every 5 mm), the traces and the lead names drawn on it.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        The input image (before rectification).
    homography : ndarray (3, 3)
        Input → rectified mapping from :func:`digitize.preprocess.rectify`.
    """
    out = image.copy()
    back = np.linalg.inv(homography)
    scale = max(1, int(round(max(image.shape[:2]) / 1500)))
    colour = _trace_colour(image)
    _draw_grid(out, back, layout, calibration, scale)
    for trace in traces:
        keep = (trace.x >= layout.x_origin) & (trace.x <= layout.x_end) & np.isfinite(trace.y)
        if keep.sum() < 2:
            continue
        points = np.column_stack([trace.x[keep], trace.y[keep]]).astype(np.float64)
        mapped = cv2.perspectiveTransform(points.reshape(-1, 1, 2), back).reshape(-1, 2)
        cv2.polylines(out, [np.round(mapped).astype(np.int32)], False, colour, scale, cv2.LINE_AA)
    font_scale = 0.5 * scale
    for panel in layout.panels:
        baseline = layout.baselines[panel.row]
        anchor = np.array([[[panel.x_start + 4.0, baseline - 0.35 * layout.row_spacing_px]]])
        x, y = cv2.perspectiveTransform(anchor, back).reshape(2)
        cv2.putText(
            out, panel.lead, (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, font_scale, LABEL_COLOUR, scale, cv2.LINE_AA
        )
    return out


def _trace_colour(image: np.ndarray) -> tuple[int, int, int]:
    small = image[:: max(1, image.shape[0] // 200), :: max(1, image.shape[1] // 200)].reshape(-1, 3).astype(float)
    darkish = small[small.min(axis=1) < 200]
    if darkish.size and darkish[:, 2].mean() > darkish[:, 0].mean() + 15:
        return ALT_TRACE_COLOUR
    return TRACE_COLOUR


def _draw_grid(out: np.ndarray, back: np.ndarray, layout: Layout, calibration: Calibration, scale: int) -> None:
    """Major grid lines (5 mm) over the traced area, phase-anchored at the time origin and first baseline."""
    step_x = 5.0 * calibration.px_per_mm_x
    step_y = 5.0 * calibration.px_per_mm_y
    x_lo, x_hi = layout.x_origin, layout.x_end
    y_lo = layout.baselines[0] - layout.row_spacing_px
    y_hi = layout.baselines[-1] + 0.6 * layout.row_spacing_px
    layer = out.copy()
    xs = np.arange(x_lo, x_hi + 1e-6, step_x)
    ys = layout.baselines[0] + step_y * np.arange(
        np.ceil((y_lo - layout.baselines[0]) / step_y), np.floor((y_hi - layout.baselines[0]) / step_y) + 1
    )
    segments = [((x, y_lo), (x, y_hi)) for x in xs] + [((x_lo, y), (x_hi, y)) for y in ys]
    for a, b in segments:
        pts = cv2.perspectiveTransform(np.array([[a], [b]], dtype=np.float64), back).reshape(2, 2)
        cv2.line(
            layer,
            tuple(np.round(pts[0]).astype(int)),
            tuple(np.round(pts[1]).astype(int)),
            GRID_COLOUR,
            scale,
            cv2.LINE_AA,
        )
    cv2.addWeighted(layer, 0.35, out, 0.65, 0, dst=out)
