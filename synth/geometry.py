"""Geometric warps with exact point tracking, applied to images by a single ``cv2.remap``.

A `Warp` is a chain of steps, each mapping the image before it (source) to the image after it (destination):
`Homography` (rotation, perspective, scaling, crops) and `DisplacementField` (wrinkles, creases). Each step maps
points forward (source → destination, for the ground truth) and pixel grids backward (destination → source, for
resampling), so a whole chain is resampled once and the ground-truth points follow exactly the same mapping.
Coordinates are pixel centres ``(x, y)``, the OpenCV convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

_REMAP_MAX = 32000  # cv2.remap maps must stay below SHRT_MAX in each dimension


class WarpStep(Protocol):
    """One geometric step; ``out_size`` is the destination image size ``(width, height)``."""

    name: str
    out_size: tuple[int, int]

    def forward(self, points: np.ndarray) -> np.ndarray: ...

    def backward(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class Homography:
    """A projective map ``matrix`` (3×3, source → destination) onto an image of ``out_size`` (width, height)."""

    matrix: np.ndarray
    out_size: tuple[int, int]
    name: str = "homography"

    def forward(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        h = np.hstack([pts, np.ones((len(pts), 1))]) @ self.matrix.T
        return h[:, :2] / h[:, 2:3]

    def backward(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = np.linalg.inv(self.matrix).astype(np.float32)
        w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
        return (m[0, 0] * x + m[0, 1] * y + m[0, 2]) / w, (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / w

    def scale(self) -> float:
        """Approximate linear scale factor (destination px per source px) at the image centre."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:2, :2] / self.matrix[2, 2]))))


@dataclass
class DisplacementField:
    """A smooth displacement: destination pixel ``q`` shows source pixel ``q + d(q)``.

    ``field`` (gh, gw, 2) holds ``d`` in px, sampled every ``stride`` px of the destination image; it is
    interpolated bilinearly. The forward map inverts ``q + d(q) = p`` by fixed-point iteration, which converges
    for fields whose gradient stays well below 1 (true for paper wrinkles and creases).
    """

    field: np.ndarray
    stride: float
    out_size: tuple[int, int]
    name: str = "displacement"
    iterations: int = 20

    def sample(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``d`` at points (float64 bilinear, exact; used for the ground truth)."""
        gh, gw = self.field.shape[:2]
        fx = np.clip(np.asarray(x, dtype=np.float64) / self.stride, 0, gw - 1.000001)
        fy = np.clip(np.asarray(y, dtype=np.float64) / self.stride, 0, gh - 1.000001)
        x0, y0 = fx.astype(np.int64), fy.astype(np.int64)
        wx, wy = (fx - x0)[..., None], (fy - y0)[..., None]
        f = self.field
        top = f[y0, x0] * (1 - wx) + f[y0, x0 + 1] * wx
        bottom = f[y0 + 1, x0] * (1 - wx) + f[y0 + 1, x0 + 1] * wx
        d = top * (1 - wy) + bottom * wy
        return d[..., 0], d[..., 1]

    def backward(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source positions of destination pixel grids (cv2.remap sampling: 1/32-cell precision, fast)."""
        mx = np.asarray(x, dtype=np.float32) / self.stride
        my = np.asarray(y, dtype=np.float32) / self.stride
        d = _remap_any(self.field, mx, my)
        return x + d[..., 0], y + d[..., 1]

    def forward(self, points: np.ndarray) -> np.ndarray:
        """Solve ``q + d(q) = p`` for each point: Newton steps with a finite-difference Jacobian."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        q = p.copy()
        eps = 0.25
        for _ in range(self.iterations):
            dx, dy = self.sample(q[:, 0], q[:, 1])
            residual = q + np.stack([dx, dy], axis=1) - p
            if np.abs(residual).max() < 1e-4:
                break
            ax, ay = self.sample(q[:, 0] + eps, q[:, 1])
            bx, by = self.sample(q[:, 0] - eps, q[:, 1])
            cx, cy = self.sample(q[:, 0], q[:, 1] + eps)
            ex, ey = self.sample(q[:, 0], q[:, 1] - eps)
            j11 = 1.0 + (ax - bx) / (2 * eps)
            j12 = (cx - ex) / (2 * eps)
            j21 = (ay - by) / (2 * eps)
            j22 = 1.0 + (cy - ey) / (2 * eps)
            det = j11 * j22 - j12 * j21
            safe = np.abs(det) > 0.05
            det = np.where(safe, det, 1.0)
            step_x = np.where(safe, (j22 * residual[:, 0] - j12 * residual[:, 1]) / det, residual[:, 0])
            step_y = np.where(safe, (j11 * residual[:, 1] - j21 * residual[:, 0]) / det, residual[:, 1])
            q = q - np.stack([step_x, step_y], axis=1)
        return q


@dataclass
class Warp:
    """The chain of geometric steps applied so far, from the undistorted render to the current image."""

    render_size: tuple[int, int]
    steps: list = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """Current image size (width, height)."""
        return self.steps[-1].out_size if self.steps else self.render_size

    def forward(self, points: np.ndarray) -> np.ndarray:
        """Map render-coordinate points (N, 2) to current image coordinates."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        for step in self.steps:
            pts = step.forward(pts)
        return pts


def resample(
    image: np.ndarray,
    mask: np.ndarray,
    steps: list,
    background: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply a chain of steps to ``image`` (uint8 BGR) and ``mask`` (uint8 lead ids) with one remap each.

    Pixels that come from outside the source take ``background`` (an image of the output size), blended over an
    anti-aliased paper edge; the mask there is 0.
    """
    if not steps:
        return image, mask
    out_w, out_h = steps[-1].out_size
    src_h, src_w = image.shape[:2]
    if len(steps) == 1 and isinstance(steps[0], Homography):
        m = steps[0].matrix
        flags = cv2.INTER_LINEAR
        warped = cv2.warpPerspective(image, m, (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        new_mask = cv2.warpPerspective(mask, m, (out_w, out_h), flags=cv2.INTER_NEAREST, borderValue=0)
        ones = np.full((src_h, src_w), 255, np.uint8)
        alpha = cv2.warpPerspective(ones, m, (out_w, out_h), flags=flags, borderValue=0)
    else:
        x, y = _backward_maps(steps, out_w, out_h)
        map1, map2 = cv2.convertMaps(x, y, cv2.CV_16SC2)
        warped = cv2.remap(image, map1, map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        new_mask = cv2.remap(mask, x, y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        ones = np.full((src_h, src_w), 255, np.uint8)
        alpha = cv2.remap(ones, map1, map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if background is not None and alpha.min() < 255:
        weight = alpha.astype(np.float32) / 255.0
        warped = cv2.blendLinear(warped, background, weight, 1.0 - weight)
    return warped, new_mask


def _backward_maps(steps: list, out_w: int, out_h: int, stride: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates of every destination pixel through ``steps`` (in reverse).

    The chain is evaluated exactly on nodes every ``stride`` px; the displacement (source − destination) is
    interpolated bilinearly in between. Every step is smooth (homographies, displacement fields sampled every
    8 px), so the interpolation error is about 0.001 px (median) and at most ~0.1 px on sharp creases.
    """
    gw, gh = -(-(out_w - 1) // stride) + 1, -(-(out_h - 1) // stride) + 1
    ny, nx = np.mgrid[0:gh, 0:gw].astype(np.float64) * stride
    x, y = nx, ny
    for step in reversed(steps):
        x, y = step.backward(x, y)
    to_nodes = np.array([[1.0 / stride, 0, 0], [0, 1.0 / stride, 0]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    dx = cv2.warpAffine((x - nx).astype(np.float32), to_nodes, (out_w, out_h), flags=flags,
                        borderMode=cv2.BORDER_REPLICATE)
    dy = cv2.warpAffine((y - ny).astype(np.float32), to_nodes, (out_w, out_h), flags=flags,
                        borderMode=cv2.BORDER_REPLICATE)
    dx += np.arange(out_w, dtype=np.float32)[None, :]
    dy += np.arange(out_h, dtype=np.float32)[:, None]
    return dx, dy


def _remap_any(src: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """Bilinear sample of ``src`` at float maps of any shape (split into rows cv2.remap accepts)."""
    shape = mx.shape
    flat_x, flat_y = mx.reshape(-1), my.reshape(-1)
    if mx.ndim == 2 and shape[0] < _REMAP_MAX and shape[1] < _REMAP_MAX:
        out = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(*shape, -1)
    n = flat_x.size
    cols = 1024
    rows = -(-n // cols)
    px = np.zeros(rows * cols, np.float32)
    py = np.zeros(rows * cols, np.float32)
    px[:n], py[:n] = flat_x, flat_y
    out = cv2.remap(src, px.reshape(rows, cols), py.reshape(rows, cols), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * cols, -1)[:n].reshape(*shape, -1)
