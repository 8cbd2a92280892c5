"""Geometric distortions. Each takes ``(canvas, strength, rng)``, strength in 0–1 (0 = no change, 1 = the top of
the range the design asks for), queues its warp step and returns the parameters it drew (JSON-ready).

Camera steps are homographies (rotation ±15°, perspective, downscaling, partial crops); paper deformations are
smooth displacement fields (wrinkles, creases) that also shade the sheet. Ground-truth points follow every step.
"""

from __future__ import annotations

import cv2
import numpy as np

from synth.canvas import Canvas
from synth.geometry import DisplacementField, Homography

MAX_ROTATION_DEG = 15.0
_FIELD_STRIDE_PX = 8.0


def rotation(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Rotate about the centre by up to ±15° × strength (positive = clockwise on screen), same image size."""
    angle = float(rng.uniform(-1, 1) * MAX_ROTATION_DEG * strength)
    w, h = canvas.size
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    canvas.queue(Homography(np.vstack([m, [0, 0, 1]]), (w, h), "rotation"))
    return {"angle_deg": angle}


def perspective(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """A camera looking at the sheet off-axis: each corner moves up to ``12 % × strength`` of the image size,
    after shrinking the sheet so most of it stays in the frame (the backdrop shows around it)."""
    w, h = canvas.size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    inset = rng.uniform(0.01, 0.04 + 0.04 * strength, size=(4, 1)) * np.array([w, h])
    jitter = rng.uniform(-1, 1, size=(4, 2)) * 0.12 * strength * np.array([w, h]) * 0.5
    inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], np.float32)
    dst = (src + inward * np.abs(inset) + jitter).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    canvas.queue(Homography(m.astype(np.float64), (w, h), "perspective"))
    return {"corners_px": dst.round(2).tolist()}


def downscale(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Shrink the image by a factor ``1 - 0.6 × strength`` (a phone photo of a 200 dpi sheet is smaller)."""
    factor = 1.0 - 0.6 * float(np.clip(strength, 0, 1))
    w, h = canvas.size
    out = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
    sx, sy = out[0] / w, out[1] / h
    m = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1.0]])
    canvas.queue(Homography(m, out, "downscale"))
    return {"factor": factor, "size": list(out)}


def crop(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Cut up to ``12 % × strength`` of the image off one or two random edges (parts of traces may go)."""
    w, h = canvas.size
    cut = {"left": 0, "top": 0, "right": 0, "bottom": 0}
    for edge in rng.choice(list(cut), size=int(rng.integers(1, 3)), replace=False):
        size = w if edge in ("left", "right") else h
        cut[str(edge)] = int(rng.uniform(0.3, 1.0) * 0.12 * strength * size)
    out = (w - cut["left"] - cut["right"], h - cut["top"] - cut["bottom"])
    m = np.array([[1.0, 0, -cut["left"]], [0, 1.0, -cut["top"]], [0, 0, 1.0]])
    canvas.queue(Homography(m, out, "crop"))
    return {"cut_px": cut}


def wrinkles(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Crumpled paper: a smooth random height map whose gradient displaces the sheet by up to
    ``1.2 mm × strength`` and shades it (light from a random side)."""
    w, h = canvas.size
    seed = int(rng.integers(2**31))
    local = np.random.default_rng(seed)
    gw, gh = int(np.ceil(w / _FIELD_STRIDE_PX)) + 1, int(np.ceil(h / _FIELD_STRIDE_PX)) + 1
    height = np.zeros((gh, gw), np.float32)
    for cells, weight in ((4, 1.0), (9, 0.5), (20, 0.25)):
        coarse = local.normal(0, 1, (cells, max(2, int(cells * w / h)))).astype(np.float32)
        height += weight * cv2.resize(coarse, (gw, gh), interpolation=cv2.INTER_CUBIC)
    gy, gx = np.gradient(height)
    norm = float(np.percentile(np.hypot(gx, gy), 99)) + 1e-6
    amplitude = 1.2 * strength * canvas.px_per_mm
    field = np.dstack([gx, gy]).astype(np.float32) * (amplitude / norm)
    light = local.uniform(0, 2 * np.pi)
    shade = (np.cos(light) * gx + np.sin(light) * gy) / norm
    _shade(canvas, 1.0 + 0.10 * strength * np.clip(shade, -1.5, 1.5))
    canvas.queue(DisplacementField(field, _FIELD_STRIDE_PX, (w, h), "wrinkles"))
    return {"seed": seed, "amplitude_px": amplitude, "light_angle_rad": float(light)}


def creases(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Fold lines: 1–3 near-straight creases (mostly across the sheet's thirds/halves); content shifts by up to
    ``0.35 mm × strength`` across each fold, which shows as a bright ridge with a soft shadow."""
    w, h = canvas.size
    gw, gh = int(np.ceil(w / _FIELD_STRIDE_PX)) + 1, int(np.ceil(h / _FIELD_STRIDE_PX)) + 1
    gy, gx = np.mgrid[0:gh, 0:gw].astype(np.float32) * _FIELD_STRIDE_PX
    field = np.zeros((gh, gw, 2), np.float32)
    shade = np.ones((gh, gw), np.float32)
    folds = []
    width = 1.2 * canvas.px_per_mm
    for _ in range(1 + int(rng.integers(0, 1 + round(2 * strength)))):
        vertical = rng.random() < 0.5
        frac = float(rng.choice([1 / 3, 1 / 2, 2 / 3]) + rng.uniform(-0.08, 0.08))
        tilt = float(np.deg2rad(rng.uniform(-6, 6)))
        if vertical:
            px, py = frac * w, h / 2
            normal = np.array([np.cos(tilt), np.sin(tilt)])
        else:
            px, py = w / 2, frac * h
            normal = np.array([np.sin(tilt), np.cos(tilt)])
        dist = (gx - px) * normal[0] + (gy - py) * normal[1]
        shift = 0.35 * strength * canvas.px_per_mm * float(rng.choice([-1, 1]))
        profile = np.tanh(dist / width)
        field[..., 0] += shift * profile * normal[0]
        field[..., 1] += shift * profile * normal[1]
        ridge = np.exp(-((dist / (0.5 * width)) ** 2))
        shadow = np.exp(-(((dist - np.sign(shift) * 0.8 * width) / (0.7 * width)) ** 2))
        shade *= 1.0 + strength * (0.06 * ridge - 0.18 * shadow)
        folds.append({"vertical": bool(vertical), "at_px": [float(px), float(py)], "tilt_rad": tilt,
                      "shift_px": shift})
    _shade(canvas, shade)
    canvas.queue(DisplacementField(field, _FIELD_STRIDE_PX, (w, h), "creases"))
    return {"folds": folds, "width_px": width}


def _shade(canvas: Canvas, gain_lowres: np.ndarray) -> None:
    """Multiply the sheet's pixels by a smooth gain (given on the field grid)."""
    image = canvas.pixels(paper_stage=True)
    h, w = image.shape[:2]
    gain = cv2.resize(gain_lowres.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    canvas.image = cv2.multiply(image, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
