"""Fixtures for the classifier tests: drawn ECG-like images (the stand-in ONNX models, `fake_models`, live in the
root conftest because the report and API tests use them too)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


def draw_ecg_like(
    height: int = 600, width: int = 900, beats: int = 8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """An RGB image with three rows of spiky traces on a light grid, and the beat boxes (x0, y0, x1, y1) drawn."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 3), (255, 240, 240), dtype=np.uint8)
    for x in range(0, width, 20):
        image[:, x] = (240, 180, 180)
    for y in range(0, height, 20):
        image[y, :] = (240, 180, 180)
    boxes = []
    spacing = width / (beats + 1)
    for row in range(3):
        base = int(height * (row + 1) / 4)
        xs = np.arange(width)
        ys = np.full(width, float(base))
        for k in range(beats):
            centre = spacing * (k + 1) + rng.uniform(-5, 5)
            ys -= 60 * np.exp(-((xs - centre) ** 2) / 18.0)
            ys -= 12 * np.exp(-((xs - centre - 35) ** 2) / 120.0)
            boxes.append((centre - spacing / 2, base - 70, centre + spacing / 2, base + 10))
        points = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.polylines(image, [points], False, (0, 0, 0), 2, cv2.LINE_AA)
    return image, np.asarray(boxes, dtype=np.float32)


@pytest.fixture
def ecg_image() -> tuple[np.ndarray, np.ndarray]:
    return draw_ecg_like()
