"""What the classifiers see: the raw image, or the image rectified by the digitizer (rotation and perspective undone).

``method="rectify"`` uses :func:`digitize.preprocess.rectify` (grid-line vanishing points → homography); when the
grid cannot be found it returns the raw image unchanged (its ``method`` is then ``"none"``). Beat boxes found on the
prepared image are mapped back to input pixels with the inverse homography.

The method a model was trained with is recorded in its manifest entry (``preprocess``); the runtime applies the
same one. ``bench/classify_eval.py --preprocess`` overrides it to measure the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

PreprocessMethod = Literal["none", "rectify"]
PREPROCESS_METHODS: tuple[str, ...] = get_args(PreprocessMethod)


@dataclass(frozen=True)
class Prepared:
    """The image the networks see, the homography from input px to its px, and what was done (``none`` /
    ``grid-lines`` / ...)."""

    image: np.ndarray
    homography: np.ndarray
    applied: str

    def boxes_to_input(self, boxes: np.ndarray) -> np.ndarray:
        """Boxes ``(N, 4)`` in prepared-image px → axis-aligned boxes in input px (corners mapped back)."""
        return map_boxes(boxes, np.linalg.inv(self.homography))

    def boxes_from_input(self, boxes: np.ndarray) -> np.ndarray:
        """Boxes ``(N, 4)`` in input px → prepared-image px."""
        return map_boxes(boxes, self.homography)


def map_boxes(boxes: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Bounding boxes of the four mapped corners of each box under a 3×3 homography."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0 or np.allclose(homography, np.eye(3)):
        return boxes.astype(np.float32)
    x0, y0, x1, y1 = boxes.T
    corners = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x0, y1], 1), np.stack([x1, y1], 1)], 1)
    points = np.concatenate([corners, np.ones((*corners.shape[:2], 1))], axis=2) @ homography.T
    points = points[..., :2] / points[..., 2:3]
    return np.concatenate([points.min(axis=1), points.max(axis=1)], axis=1).astype(np.float32)


def prepare_image(image: np.ndarray, method: PreprocessMethod = "none") -> Prepared:
    """Apply ``method`` to an RGB ``uint8`` image (see the module docstring)."""
    if method not in PREPROCESS_METHODS:
        raise ValueError(f"unknown preprocess method {method!r}; valid: {', '.join(PREPROCESS_METHODS)}")
    if method == "none":
        return Prepared(image, np.eye(3), "none")
    from digitize.preprocess import rectify

    rectified = rectify(image, method="grid-lines")
    return Prepared(rectified.image, np.asarray(rectified.homography, dtype=np.float64), rectified.method)
