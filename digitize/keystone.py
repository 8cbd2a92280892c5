"""Residual keystone of a photographed page, measured from how the grid's period changes across the rectified image.

:func:`digitize.preprocess.rectify` takes the vanishing points from the grid lines' angles in three strips; on
photographs a small convergence is left (kit-dev photos: the vertical lines' spacing changes by up to 5 % from the
top of the page to the bottom, so the 10 s rhythm strip drifts by up to 200 ms against its reference). Here the
spacing of the vertical grid lines is measured in six horizontal and six vertical bands (autocorrelation pitch,
:func:`digitize.grid.grid_pitch`); its linear change across the page, ``p(x, y) ≈ p0 (1 + α x + β y)`` in
coordinates centred on the image and scaled by its longer side, is undone by the projective homography
``[[1, 0, 0], [0, 1, 0], [α/2, β, 1]]`` (its local x-scale is ``1 − 2·(α/2)·x − β·y`` to first order; Hartley &
Zisserman 2004, §2.7: the line at infinity's image). The time axis is what matters, so only the vertical lines'
spacing is used.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from digitize.grid import grid_pitch
from digitize.preprocess import Rectified, find_paper, ink_layers, warp_page

BANDS = 6
"""Bands per direction in which the vertical grid lines' spacing is measured."""

MIN_CHANGE = 0.01
"""Relative spacing change per image side (|α| or |β|) below which the page is left as it is (≈ the measurement
noise: kit-dev scans and flat renders show ≤ 0.003)."""

PASSES = 3
"""Most corrections applied in turn (each measured on the previous one's result)."""

MAX_CHANGE = 0.15
"""Larger changes are taken for a misread (a band's pitch at 1 mm instead of 5 mm, text), not a keystone."""


def spacing_change(lines: np.ndarray, paper_mask: np.ndarray) -> tuple[float, float] | None:
    """Relative change (α along x, β along y) of the vertical grid lines' spacing per longer image side.

    None when the grid's period cannot be measured in at least four bands each way.
    """
    height, width = lines.shape
    side = float(max(height, width))
    overall, _ = grid_pitch(lines, 1, mask=paper_mask)
    if not np.isfinite(overall):
        return None
    slopes = []
    for along in ("x", "y"):
        centres, periods = [], []
        for k in range(BANDS):
            if along == "x":
                lo, hi = width * k // BANDS, width * (k + 1) // BANDS
                period, _ = grid_pitch(lines[:, lo:hi], 1, mask=paper_mask[:, lo:hi])
                centre = (0.5 * (lo + hi) - 0.5 * width) / side
            else:
                lo, hi = height * k // BANDS, height * (k + 1) // BANDS
                period, _ = grid_pitch(lines[lo:hi], 1, mask=paper_mask[lo:hi])
                centre = (0.5 * (lo + hi) - 0.5 * height) / side
            if np.isfinite(period) and abs(period / overall - 1.0) < 0.08:
                centres.append(centre)
                periods.append(period)
        if len(centres) < 4:
            return None
        slope, intercept = np.polyfit(centres, periods, 1)
        slopes.append(float(slope / intercept))
    return slopes[0], slopes[1]


def straighten_keystone(image: np.ndarray, rectified: Rectified) -> tuple[Rectified, str | None]:
    """``rectified`` again with the residual keystone undone, and a note; unchanged (note None) when it is small.

    ``image`` is the upright input that ``rectified.homography`` maps from. Up to :data:`PASSES` corrections: a
    strong change down the page also biases the across-the-page reading, so the spacing is measured again after
    each one.
    """
    current, total = rectified, None
    paper = None
    for _ in range(PASSES):
        layers = ink_layers(current.image, paper_mask=current.paper_mask)
        change = spacing_change(layers.lines, current.paper_mask)
        if change is None:
            break
        alpha, beta = change
        size = max(abs(alpha), abs(beta))
        if size < MIN_CHANGE or size > MAX_CHANGE:
            break
        if total is None:
            total = change
        height, width = current.image.shape[:2]
        side = float(max(height, width))
        to_unit = np.array([[1.0 / side, 0, -0.5 * width / side], [0, 1.0 / side, -0.5 * height / side], [0, 0, 1.0]])
        residual = np.linalg.inv(to_unit) @ np.array([[1.0, 0, 0], [0, 1.0, 0], [0.5 * alpha, beta, 1.0]]) @ to_unit
        paper = find_paper(image) if paper is None else paper
        current = warp_page(image, residual @ current.homography, paper, rectified.method)
    if total is None:
        return rectified, None
    note = (
        f"residual keystone undone (grid spacing changed {100 * total[0]:+.1f} % across, "
        f"{100 * total[1]:+.1f} % down)"
    )
    return replace(current, method=rectified.method), note
