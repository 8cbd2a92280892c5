"""Rotation and perspective recovery on drawn grids with known transforms; grid colour separation."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the drawing helpers beside this file
from ecg_drawing import draw_printout, synthetic_leads

from digitize.preprocess import find_paper, ink_layers, normalize_illumination, rectify


@pytest.fixture(scope="module")
def printout():
    image, _, _ = draw_printout(synthetic_leads(3), px_per_mm=5.0)
    return image


def _line_angles(image: np.ndarray) -> float:
    """Largest deviation (°) from axis-parallel of the rectified grid, measured by a fresh rectification."""
    return abs(rectify(image).rotation_deg)


@pytest.mark.parametrize("angle", [-7.0, 3.0, 12.0])
def test_rotation_is_recovered(printout, angle):
    h, w = printout.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)  # negative: clockwise in image coordinates
    rotated = cv2.warpAffine(printout, matrix, (w, h), borderValue=(40, 40, 40))
    result = rectify(rotated)
    assert result.rotation_deg == pytest.approx(angle, abs=0.15)
    assert _line_angles(result.image) < 0.15


def test_perspective_is_recovered(printout):
    h, w = printout.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[60, 40], [w - 20, 0], [w - 60, h - 10], [30, h - 80]]) * 0.8 + 60
    warp = cv2.getPerspectiveTransform(src, dst)
    photo = cv2.warpPerspective(printout, warp, (int(w * 0.8) + 140, int(h * 0.8) + 140), borderValue=(50, 40, 30))
    result = rectify(photo)
    assert result.perspective > 0.02
    # Straight grid lines again: the composed map input → rectified is a similarity plus an axis scaling.
    total = result.homography @ warp
    total = total / total[2, 2]
    corners = np.float64([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(corners, total).reshape(-1, 2)
    assert abs(mapped[0, 1] - mapped[1, 1]) < 0.004 * w  # top edge horizontal
    assert abs(mapped[0, 0] - mapped[3, 0]) < 0.004 * h  # left edge vertical
    assert abs(mapped[1, 0] - mapped[2, 0]) < 0.004 * h  # right edge vertical


def test_rectify_rejects_unknown_method(printout):
    with pytest.raises(ValueError, match="grid-lines"):
        rectify(printout, method="magic")


def test_paper_is_found_on_a_dark_desk(printout):
    desk = np.full((1400, 1800, 3), (60, 45, 30), np.uint8)
    desk[200 : 200 + printout.shape[0], 200 : 200 + printout.shape[1]] = printout
    mask = find_paper(desk)
    assert mask[600, 900] and not mask[50, 50]
    assert 0.85 < mask.sum() / (printout.shape[0] * printout.shape[1]) < 1.15


@pytest.mark.parametrize("grid_colour", [(230, 60, 60), (60, 90, 230), (40, 170, 60)])
def test_coloured_grid_drops_out_of_the_ink_layer(grid_colour):
    image, _, _ = draw_printout(synthetic_leads(2), px_per_mm=5.0, grid_colour=grid_colour, minor_colour=grid_colour)
    layers = ink_layers(image)
    trace_level = np.percentile(layers.ink, 99.8)
    grid_rows = (image == np.array(grid_colour, np.uint8)).all(axis=2)
    assert trace_level > 0.5
    # Grid pixels are far fainter than the trace in the ink layer, but dark in the any-colour line layer.
    assert np.median(layers.ink[grid_rows]) < 0.4 * trace_level
    assert np.median(layers.lines[grid_rows]) > 2 * np.median(layers.ink[grid_rows])


def test_illumination_normalisation_keeps_shape(printout):
    shaded = (printout * np.linspace(0.5, 1.0, printout.shape[1])[None, :, None]).astype(np.uint8)
    out = normalize_illumination(shaded)
    assert out.shape == shaded.shape and out.dtype == np.uint8
    left, right = out[:, :200].mean(), out[:, -200:].mean()
    assert abs(left - right) < abs(shaded[:, :200].mean() - shaded[:, -200:].mean())
