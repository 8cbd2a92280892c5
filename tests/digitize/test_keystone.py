"""Residual keystone of a photographed page (issue 15, photo15): measured from the grid spacing and undone."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the drawing helpers beside this file
from ecg_drawing import draw_printout, synthetic_leads

from digitize.grid import grid_pitch
from digitize.keystone import MIN_CHANGE, spacing_change, straighten_keystone
from digitize.preprocess import Rectified, ink_layers


@pytest.fixture(scope="module")
def printout():
    image, _, _ = draw_printout(synthetic_leads(3), px_per_mm=5.0)
    return image


def _as_rectified(image: np.ndarray) -> Rectified:
    """``image`` as if the grid-line rectification had left it as it is."""
    return Rectified(image, np.eye(3), np.ones(image.shape[:2], bool), 0.0, 0.1, "grid-lines")


def _keystoned(image: np.ndarray, g: float) -> np.ndarray:
    """The page with its bottom widened: x' = x / (1 + g·y) about the centre (normalised by the longer side)."""
    h, w = image.shape[:2]
    side = float(max(h, w))
    unit = np.array([[1 / side, 0, -0.5 * w / side], [0, 1 / side, -0.5 * h / side], [0, 0, 1.0]])
    warp = np.linalg.inv(unit) @ np.array([[1.0, 0, 0], [0, 1.0, 0], [0, g, 1.0]]) @ unit
    return cv2.warpPerspective(image, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _change(image: np.ndarray) -> tuple[float, float]:
    layers = ink_layers(image)
    change = spacing_change(layers.lines, np.ones(image.shape[:2], bool))
    assert change is not None
    return change


def test_flat_page_shows_no_spacing_change(printout):
    alpha, beta = _change(printout)
    assert abs(alpha) < 0.005 and abs(beta) < 0.005
    same, note = straighten_keystone(printout, _as_rectified(printout))
    assert note is None and same.image is printout


@pytest.mark.parametrize("g", [-0.06, 0.05])
def test_keystone_is_measured_and_undone(printout, g):
    photo = _keystoned(printout, g)
    alpha, beta = _change(photo)
    assert beta == pytest.approx(-g, abs=0.012)  # spacing shrinks where 1 + g·y grows
    straightened, note = straighten_keystone(photo, _as_rectified(photo))
    assert note is not None and "keystone" in note
    alpha, beta = _change(straightened.image)
    assert abs(alpha) < MIN_CHANGE and abs(beta) < MIN_CHANGE  # from 5–6 % to below what is acted on
    # the vertical lines are parallel again: the spacing at the top and bottom of the page agrees within 1 %
    layers = ink_layers(straightened.image)
    h = layers.lines.shape[0]
    top, _ = grid_pitch(layers.lines[: h // 4], 1)
    bottom, _ = grid_pitch(layers.lines[-h // 4 :], 1)
    assert abs(top / bottom - 1.0) < 0.01
