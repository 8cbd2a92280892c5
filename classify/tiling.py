"""The RGB tiling of patent CN110507311A: one ECG image → a 3×224×224 input for the tiled ResNet.

The image is cut into three equal tiles along the time axis (x), each tile is turned to grey, resized to 224×224
(area interpolation when shrinking, which keeps thin traces visible) and placed in the R, G and B channel
respectively (patent §[0041]–[0047]: tile 1 → R, tile 2 → G, tile 3 → B). When the width is not a multiple of
three, the last ``width % 3`` columns are dropped so that the tiles have exactly equal size.

Only numpy and OpenCV: the runtime (onnxruntime) and the training data cache share this code.
"""

from __future__ import annotations

import cv2
import numpy as np

TILE_COUNT = 3
TILE_SIZE = 224
"""Side (px) of each resized tile; the network input is ``(3, TILE_SIZE, TILE_SIZE)``."""


def to_grey(image: np.ndarray) -> np.ndarray:
    """Luma (ITU-R BT.601) ``uint8`` ``(H, W)`` of an RGB ``(H, W, 3)`` or grey ``(H, W)`` image."""
    if image.ndim == 2:
        return np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image must be (H, W) or (H, W, 3); got shape {image.shape}")
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3], dtype=np.uint8), cv2.COLOR_RGB2GRAY)


def tile_bounds(width: int, count: int = TILE_COUNT) -> list[tuple[int, int]]:
    """Column ranges ``[x0, x1)`` of ``count`` equal tiles along the width (remainder columns dropped)."""
    if width < count:
        raise ValueError(f"image width {width} px is narrower than {count} tiles")
    step = width // count
    return [(i * step, (i + 1) * step) for i in range(count)]


def rgb_tiles(image: np.ndarray, size: int = TILE_SIZE) -> np.ndarray:
    """The patent's tiled input: ``uint8`` array ``(3, size, size)``, channel *k* = grey tile *k* (left → right).

    Parameters
    ----------
    image : ndarray
        RGB ``(H, W, 3)`` or grey ``(H, W)`` ``uint8`` image, time running along x.
    size : int
        Side of each resized tile (px).
    """
    grey = to_grey(image)
    tiles = []
    for x0, x1 in tile_bounds(grey.shape[1]):
        tile = grey[:, x0:x1]
        shrinking = tile.shape[0] > size or tile.shape[1] > size
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        tiles.append(cv2.resize(tile, (size, size), interpolation=interpolation))
    return np.stack(tiles, axis=0)


def untile_channel_map(channel_maps: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Place three per-tile maps ``(3, h, w)`` back side by side on the image grid ``(H, W)`` (float32).

    The inverse geometry of :func:`rgb_tiles`, used to draw saliency computed on the tiled input over the image.
    Columns dropped by the tiling get 0.
    """
    height, width = image_shape
    out = np.zeros((height, width), dtype=np.float32)
    for k, (x0, x1) in enumerate(tile_bounds(width)):
        out[:, x0:x1] = cv2.resize(
            channel_maps[k].astype(np.float32), (x1 - x0, height), interpolation=cv2.INTER_LINEAR
        )
    return out
