"""Input geometry of the beat detector and the fusion network (numpy/OpenCV only; shared by training and serving).

Sizes are chosen for a 2-core CPU (see ``classify/train/nets/fusion.py`` for the deviations from patent CN110731773A):

* detector canvas: the whole image resized (no letterbox) to :data:`DETECTOR_SIZE` = 384×512 (H×W) px;
* global branch: the whole image resized to :data:`GLOBAL_SIZE` = 192×256 px, RGB;
* local branch: up to :data:`MAX_BEATS` = 16 beat crops, each resized to :data:`BEAT_CROP_SIZE` = 64×64 px, RGB,
  with a validity mask so the exported graph has fixed shapes.

Boxes are ``(x0, y0, x1, y1)`` in pixels of the image they refer to.
"""

from __future__ import annotations

import cv2
import numpy as np

DETECTOR_SIZE = (384, 512)
GLOBAL_SIZE = (192, 256)
BEAT_CROP_SIZE = 64
MAX_BEATS = 16
CROP_PAD_FRACTION = 0.05
"""Each beat box is widened by this fraction of its size on every side before cropping."""


def _resize(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    height, width = size_hw
    shrinking = image.shape[0] > height or image.shape[1] > width
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] < 3:
        raise ValueError(f"image must be (H, W) or (H, W, 3); got shape {image.shape}")
    return np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)


def chw(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` → ``(3, H, W)`` contiguous."""
    return np.ascontiguousarray(image.transpose(2, 0, 1))


def global_image(image: np.ndarray, size: tuple[int, int] = GLOBAL_SIZE) -> np.ndarray:
    """The global-branch input: ``uint8`` ``(3, H, W)`` of the whole RGB image resized to ``size`` (H, W)."""
    return chw(_resize(_rgb(image), size))


def detector_canvas(image: np.ndarray, size: tuple[int, int] = DETECTOR_SIZE) -> np.ndarray:
    """The detector input: ``uint8`` ``(3, H, W)`` of the whole RGB image resized to ``size`` (H, W)."""
    return chw(_resize(_rgb(image), size))


def canvas_scale(image_shape: tuple[int, int], size: tuple[int, int] = DETECTOR_SIZE) -> tuple[float, float]:
    """``(sx, sy)``: canvas px per image px along x and y for an image of ``image_shape`` (H, W)."""
    return size[1] / image_shape[1], size[0] / image_shape[0]


def boxes_to_canvas(
    boxes: np.ndarray, image_shape: tuple[int, int], size: tuple[int, int] = DETECTOR_SIZE
) -> np.ndarray:
    """Image-px boxes ``(N, 4)`` → detector-canvas px."""
    sx, sy = canvas_scale(image_shape, size)
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4) * np.array([sx, sy, sx, sy], dtype=np.float32)


def boxes_from_canvas(
    boxes: np.ndarray, image_shape: tuple[int, int], size: tuple[int, int] = DETECTOR_SIZE
) -> np.ndarray:
    """Detector-canvas px boxes ``(N, 4)`` → image px."""
    sx, sy = canvas_scale(image_shape, size)
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4) / np.array([sx, sy, sx, sy], dtype=np.float32)


def beat_crops(
    image: np.ndarray,
    boxes: np.ndarray,
    *,
    size: int = BEAT_CROP_SIZE,
    max_beats: int = MAX_BEATS,
) -> tuple[np.ndarray, np.ndarray]:
    """Crops of the first ``max_beats`` boxes, resized to ``size``×``size``, and their validity mask.

    Parameters
    ----------
    image : ndarray
        RGB ``(H, W, 3)`` image the boxes refer to.
    boxes : ndarray
        ``(N, 4)`` boxes in image px, most important first (e.g. sorted by detection score).

    Returns
    -------
    crops : ndarray
        ``uint8`` ``(max_beats, 3, size, size)``; unused slots are white (255).
    mask : ndarray
        ``float32`` ``(max_beats,)``: 1 for a real crop, 0 for an empty slot.
    """
    rgb = _rgb(image)
    height, width = rgb.shape[:2]
    crops = np.full((max_beats, 3, size, size), 255, dtype=np.uint8)
    mask = np.zeros(max_beats, dtype=np.float32)
    slot = 0
    for x0, y0, x1, y1 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        if slot == max_beats:
            break
        if not np.all(np.isfinite([x0, y0, x1, y1])) or x1 - x0 < 2 or y1 - y0 < 2:
            continue
        pad_x, pad_y = (x1 - x0) * CROP_PAD_FRACTION, (y1 - y0) * CROP_PAD_FRACTION
        ix0, iy0 = max(0, int(np.floor(x0 - pad_x))), max(0, int(np.floor(y0 - pad_y)))
        ix1, iy1 = min(width, int(np.ceil(x1 + pad_x))), min(height, int(np.ceil(y1 + pad_y)))
        if ix1 - ix0 < 2 or iy1 - iy0 < 2:
            continue
        crops[slot] = chw(_resize(rgb[iy0:iy1, ix0:ix1], (size, size)))
        mask[slot] = 1.0
        slot += 1
    return crops, mask
