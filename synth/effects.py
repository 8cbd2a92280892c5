"""Photometric and ink distortions. Each takes ``(canvas, strength, rng)``, strength in 0–1 (0 = no change, 1 = the
top of the design's range), changes the pixels and returns the parameters it drew (JSON-ready).

Paper-stage effects (texture, handwriting, stamps) mark the sheet before the camera steps; the others act on the
captured image: lighting gradients ±30 %, shadows, contrast ±20 %, colour cast, Gaussian blur σ up to 3 px,
Poisson (shot) and speckle noise, JPEG artefacts. None of them moves a pixel, so the ground truth is unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from synth.canvas import Canvas
from synth.text import HANDWRITING_WORDS, SCRIPT_FONTS, STAMP_WORDS

_INKS_BGR = ((150, 50, 20), (40, 30, 30), (40, 40, 170), (120, 40, 90))  # blue, black, red, purple ballpoint


# --- paper stage ---------------------------------------------------------------------------------------------
def texture(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Paper fibres and mottling: multiplicative low-contrast noise, up to ±6 % × strength."""
    image = canvas.pixels(paper_stage=True)
    h, w = image.shape[:2]
    fibres = cv2.GaussianBlur(normal_noise((h // 2, w // 2), rng), (0, 0), 1.2, sigmaY=0.6)
    mottle = cv2.resize(rng.normal(0, 1, (max(2, h // 64), max(2, w // 64))).astype(np.float32), (w // 2, h // 2),
                        interpolation=cv2.INTER_CUBIC)
    field = 1.0 + strength * (0.03 * fibres / (fibres.std() + 1e-6) + 0.03 * mottle)
    _multiply(canvas, cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR))
    return {"amplitude": 0.06 * strength}


def handwriting(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Pen annotations over the traces: 1–6 script words and scribbles (circles, underlines, strokes)."""
    image = canvas.pixels(paper_stage=True)
    h, w = image.shape[:2]
    ppm = canvas.px_per_mm
    items = []
    for _ in range(1 + int(round(5 * strength * rng.uniform(0.5, 1.0)))):
        ink = _INKS_BGR[int(rng.integers(len(_INKS_BGR)))]
        thick = max(1, int(round(rng.uniform(0.25, 0.6) * ppm)))
        x, y = float(rng.uniform(0.05, 0.85) * w), float(rng.uniform(0.08, 0.95) * h)
        if rng.random() < 0.55:
            word = str(rng.choice(HANDWRITING_WORDS))
            size = rng.uniform(4, 9) * ppm / 21.0
            font = SCRIPT_FONTS[int(rng.integers(len(SCRIPT_FONTS)))]
            cv2.putText(image, word, (int(x), int(y)), font, size, ink, thick, cv2.LINE_AA)
            items.append({"kind": "word", "text": word, "at_px": [x, y]})
        else:
            pts = _scribble(rng, x, y, ppm)
            cv2.polylines(image, [np.round(pts * 16).astype(np.int32)], False, ink, thick, cv2.LINE_AA, 4)
            items.append({"kind": "stroke", "at_px": [x, y], "n_points": len(pts)})
    return {"items": items}


def stamp(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """A rubber stamp (box or circle with a word and a date), tilted, semi-transparent ink."""
    image = canvas.pixels(paper_stage=True)
    h, w = image.shape[:2]
    ppm = canvas.px_per_mm
    size = int(rng.uniform(25, 45) * ppm)
    patch = np.zeros((size, size), np.uint8)
    word = str(rng.choice(STAMP_WORDS))
    date = f"{rng.integers(1, 29):02d}.{rng.integers(1, 13):02d}.{rng.integers(1995, 2025)}"
    line = max(1, int(0.5 * ppm))
    round_stamp = rng.random() < 0.4
    if round_stamp:
        cv2.circle(patch, (size // 2, size // 2), size // 2 - line, 255, line, cv2.LINE_AA)
        cv2.circle(patch, (size // 2, size // 2), int(size * 0.38), 255, max(1, line // 2), cv2.LINE_AA)
    else:
        cv2.rectangle(patch, (line, size // 4), (size - line, 3 * size // 4), 255, line, cv2.LINE_AA)
    scale = size / (len(word) * 21.0 * 1.15)
    (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_DUPLEX, scale, line)
    cv2.putText(patch, word, ((size - tw) // 2, size // 2), cv2.FONT_HERSHEY_DUPLEX, scale, 255, line, cv2.LINE_AA)
    (dw, _), _ = cv2.getTextSize(date, cv2.FONT_HERSHEY_SIMPLEX, scale * 0.6, max(1, line // 2))
    cv2.putText(patch, date, ((size - dw) // 2, size // 2 + int(1.6 * th)), cv2.FONT_HERSHEY_SIMPLEX, scale * 0.6,
                255, max(1, line // 2), cv2.LINE_AA)
    angle = float(rng.uniform(-25, 25))
    rot = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)
    patch = cv2.warpAffine(patch, rot, (size, size))
    x0, y0 = int(rng.uniform(0, max(1, w - size))), int(rng.uniform(0, max(1, h - size)))
    region = image[y0 : y0 + size, x0 : x0 + size]
    p = patch[: region.shape[0], : region.shape[1]]
    opacity = float(rng.uniform(0.45, 0.85) * (0.5 + 0.5 * strength))
    alpha = (p.astype(np.float32) / 255.0 * opacity)[..., None]
    ink = np.array(_INKS_BGR[int(rng.choice([0, 2, 3]))], np.float32)
    region[:] = (region * (1 - alpha) + np.minimum(region, ink) * alpha).astype(np.uint8)
    return {"word": word, "box_px": [x0, y0, x0 + size, y0 + size], "angle_deg": angle, "opacity": opacity,
            "round": bool(round_stamp)}


def _scribble(rng: np.random.Generator, x: float, y: float, ppm: float) -> np.ndarray:
    kind = rng.integers(3)
    t = np.linspace(0, 1, 80)
    if kind == 0:  # loop / circle around something
        rx, ry = rng.uniform(6, 20) * ppm, rng.uniform(4, 12) * ppm
        a = t * 2 * np.pi * rng.uniform(0.9, 1.15) + rng.uniform(0, 2 * np.pi)
        pts = np.stack([x + rx * np.cos(a), y + ry * np.sin(a)], 1)
    elif kind == 1:  # underline / arrow shaft
        length = rng.uniform(15, 60) * ppm
        pts = np.stack([x + length * t, y + rng.uniform(-3, 3) * ppm * t + 0.6 * ppm * np.sin(9 * t)], 1)
    else:  # cursive-like squiggle
        length = rng.uniform(10, 30) * ppm
        wiggle = 14 * np.pi * t
        pts = np.stack([x + length * t + 1.5 * ppm * np.cos(wiggle), y + 1.8 * ppm * np.sin(wiggle)], 1)
    wobble = np.cumsum(rng.normal(0, 0.08 * ppm, pts.shape), axis=0)
    return pts + wobble


# --- camera / capture ----------------------------------------------------------------------------------------
def lighting(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Uneven illumination: a linear gradient plus a soft hot spot, brightness within ±30 % × strength."""
    image = canvas.pixels()
    h, w = image.shape[:2]
    angle = float(rng.uniform(0, 2 * np.pi))
    gy, gx = np.mgrid[0:32, 0:32].astype(np.float32) / 31.0 - 0.5
    ramp = 2 * (np.cos(angle) * gx + np.sin(angle) * gy)
    cx, cy = rng.uniform(-0.4, 0.4, 2)
    spot = np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / 0.15) - 0.5
    field = 1.0 + 0.3 * strength * np.clip(0.7 * ramp + 0.6 * spot, -1, 1)
    _multiply(canvas, cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC))
    return {"angle_rad": angle, "spot_center": [float(cx), float(cy)], "range": 0.3 * strength}


def shadow(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """A soft-edged shadow (phone or hand) entering from one side, darkening by up to 50 % × strength."""
    image = canvas.pixels()
    h, w = image.shape[:2]
    small = np.zeros((h // 8, w // 8), np.float32)
    sh, sw = small.shape
    side = int(rng.integers(4))
    depth = rng.uniform(0.15, 0.5)
    a, b = sorted(rng.uniform(0, 1, 2))
    if side in (0, 1):  # from the left / right
        x_in = depth * sw if side == 0 else (1 - depth) * sw
        x_edge = 0 if side == 0 else sw
        poly = [[x_edge, a * sh - sh], [x_in, a * sh], [x_in + rng.uniform(-0.1, 0.1) * sw, b * sh], [x_edge, sh * 2]]
    else:  # from the top / bottom
        y_in = depth * sh if side == 2 else (1 - depth) * sh
        y_edge = 0 if side == 2 else sh
        poly = [[a * sw - sw, y_edge], [a * sw, y_in], [b * sw, y_in + rng.uniform(-0.1, 0.1) * sh], [sw * 2, y_edge]]
    cv2.fillPoly(small, [np.array(poly, np.int32)], 1.0)
    small = cv2.GaussianBlur(small, (0, 0), max(1.0, rng.uniform(0.02, 0.08) * max(sh, sw)))
    darkness = float(0.5 * strength * rng.uniform(0.5, 1.0))
    field = 1.0 - darkness * cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    _multiply(canvas, field)
    return {"side": ["left", "right", "top", "bottom"][side], "darkness": darkness}


def contrast(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Contrast changed by up to ±20 % × strength about mid-grey, with a small brightness offset."""
    image = canvas.pixels()
    factor = 1.0 + float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.0) * 0.2 * strength)
    offset = float(rng.uniform(-12, 12) * strength)
    canvas.image = cv2.convertScaleAbs(image, alpha=factor, beta=128 * (1 - factor) + offset)
    return {"factor": factor, "offset": offset}


def color_cast(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """White-balance error: per-channel gains within ±12 % × strength (warm or cool cast)."""
    image = canvas.pixels()
    warm = float(rng.uniform(-1, 1))
    gains = np.array([1 - 0.12 * strength * warm, 1 + 0.03 * strength * rng.uniform(-1, 1),
                      1 + 0.12 * strength * warm], np.float32)
    gains /= gains.max()
    canvas.image = cv2.multiply(image, (*[float(g) for g in gains], 0.0), dtype=cv2.CV_8U)
    return {"gains_bgr": gains.round(4).tolist()}


def blur(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Gaussian blur (defocus) with σ = 3 px × strength."""
    sigma = 3.0 * strength
    if sigma > 0.05:
        canvas.image = cv2.GaussianBlur(canvas.pixels(), (0, 0), sigma)
    return {"sigma_px": sigma}


def poisson_noise(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Shot noise: a white pixel collects ``2000 → 60`` photons as strength goes 0 → 1 (Gaussian approximation,
    variance proportional to intensity), mostly in luminance with a weaker colour part, as after demosaicing."""
    image = canvas.pixels()
    h, w = image.shape[:2]
    photons = float(2000.0 * (60.0 / 2000.0) ** strength)
    sigma_lut = np.sqrt(np.arange(256, dtype=np.float32) * np.float32(255.0 / photons))
    sigma = cv2.LUT(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), sigma_lut)
    luma = cv2.multiply(normal_noise((h, w), rng), sigma)
    chroma = cv2.resize(normal_noise((h // 2, w // 2, 3), rng), (w, h), interpolation=cv2.INTER_LINEAR)
    noise = cv2.merge([luma, luma, luma]) + cv2.multiply(chroma, cv2.merge([sigma, sigma, sigma]), scale=0.5)
    canvas.image = cv2.add(image, noise, dtype=cv2.CV_8U)
    return {"photons_at_white": photons}


def speckle(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """Multiplicative grain ``I · (1 + n)``, n Gaussian with σ = 0.2 × strength, slightly blurred (1–2 px grains)."""
    image = canvas.pixels()
    h, w = image.shape[:2]
    grain = cv2.GaussianBlur(normal_noise((h, w), rng), (0, 0), 0.7)
    grain *= 0.2 * strength / (grain.std() + 1e-6)
    _multiply(canvas, 1.0 + grain)
    return {"sigma": 0.2 * strength}


def jpeg(canvas: Canvas, strength: float, rng: np.random.Generator) -> dict:
    """JPEG compression at quality ``95 - 60 × strength``."""
    quality = int(round(95 - 60 * strength))
    ok, buf = cv2.imencode(".jpg", canvas.pixels(), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if ok:
        canvas.image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return {"quality": quality}


def normal_noise(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Standard normal float32 noise of ``shape`` (OpenCV's generator, ~10× faster than numpy's, seeded from
    ``rng`` so results stay reproducible)."""
    out = np.empty(shape, np.float32)
    cv2.setRNGSeed(int(rng.integers(2**31)))
    channels = shape[2] if len(shape) == 3 else 1
    cv2.randn(out, (0.0,) * channels, (1.0,) * channels)
    return out


def _multiply(canvas: Canvas, gain: np.ndarray) -> None:
    """Multiply the current pixels by a per-pixel gain (float32, H×W)."""
    image = canvas.image
    canvas.image = cv2.multiply(image, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
