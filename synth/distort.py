"""`distort`: apply named distortions, or a level's random mix of them, to a rendered image and its ground truth.

Levels (each call draws its own mix from the seeded ``rng``):

``none``
    the clean render.
``scan``
    a flatbed scan: slight rotation (≤ 5°), paper texture, sometimes wrinkles/creases and pen marks, colour
    temperature, mild contrast, light blur and noise, JPEG 77–92.
``photo``
    a phone photo: the sheet in perspective on a desk, lighting gradients and shadows, colour cast, contrast,
    blur σ 1–1.8 px, shot noise, downscaled to a 1400–1800 px long side, JPEG 70–88.
``hard``
    all of it strong: rotation up to ±15°, creases and wrinkles, handwriting and stamps over the traces, partial
    crops, blur σ up to 3 px, heavy noise, JPEG 47–71.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal

import numpy as np

from ecg.errors import EcgInputError
from synth import effects, warps
from synth.canvas import BACKGROUNDS, Canvas
from synth.geometry import Warp
from synth.render import Rendered
from synth.truth import AppliedDistortion

Level = Literal["none", "scan", "photo", "hard"]
LEVELS: tuple[str, ...] = ("none", "scan", "photo", "hard")

DistortionFn = Callable[[Canvas, float, np.random.Generator], dict]

DISTORTIONS: dict[str, DistortionFn] = {
    # paper stage
    "texture": effects.texture,
    "handwriting": effects.handwriting,
    "stamp": effects.stamp,
    "creases": warps.creases,
    "wrinkles": warps.wrinkles,
    # camera geometry
    "rotation": warps.rotation,
    "perspective": warps.perspective,
    "downscale": warps.downscale,
    "crop": warps.crop,
    # capture
    "lighting": effects.lighting,
    "shadow": effects.shadow,
    "contrast": effects.contrast,
    "color_cast": effects.color_cast,
    "blur": effects.blur,
    "poisson_noise": effects.poisson_noise,
    "speckle": effects.speckle,
    "jpeg": effects.jpeg,
}
"""Every distortion by name; each is ``fn(canvas, strength, rng) -> params``."""

Step = tuple[str, float]


def distort(
    rendered: Rendered,
    steps: Level | Sequence[Step] = "photo",
    rng: np.random.Generator | None = None,
    *,
    background: str | None = None,
) -> Rendered:
    """Distort a rendered image and carry its ground truth along.

    Parameters
    ----------
    rendered : Rendered
        Output of `render` (or of a previous `distort`).
    steps : level name or sequence of (distortion name, strength 0–1)
        A level (``none``, ``scan``, ``photo``, ``hard``) draws a mix; an explicit sequence is applied in order.
    rng : numpy Generator
        Source of every random choice (seed it for reproducible images).
    background : str, optional
        Backdrop around the sheet after geometric steps (one of `canvas.BACKGROUNDS`); the level picks one.

    Returns
    -------
    Rendered
        New image, mask and truth (points mapped through every geometric step, distortions logged).
    """
    rng = rng if rng is not None else np.random.default_rng()
    if isinstance(steps, str):
        recipe, default_background = level_recipe(steps, rng, rendered.image.shape[:2])
    else:
        recipe, default_background = [(str(n), float(s)) for n, s in steps], "scanner-dark"
    background = background or default_background
    if background not in BACKGROUNDS:
        raise EcgInputError(f"unknown background {background!r}; choose one of {', '.join(BACKGROUNDS)}")
    for name, strength in recipe:
        if name not in DISTORTIONS:
            raise EcgInputError(f"unknown distortion {name!r}; choose from {', '.join(DISTORTIONS)}")
        if not 0.0 <= strength <= 1.0:
            raise EcgInputError(f"strength of {name} must be within 0–1, got {strength:g}")
    truth = rendered.truth
    canvas = Canvas(
        image=rendered.image.copy(),
        mask=rendered.mask.copy(),
        warp=Warp(truth.warp.render_size, list(truth.warp.steps)),
        px_per_mm=truth.spec.px_per_mm * truth.warp_scale(),
        rng=rng,
        background=background,
    )
    log = []
    for name, strength in recipe:
        params = DISTORTIONS[name](canvas, strength, rng)
        log.append(AppliedDistortion(name, float(strength), params))
    canvas.flush()
    new_truth = replace(truth, warp=canvas.warp, distortions=(*truth.distortions, *log))
    return Rendered(canvas.image, canvas.mask, new_truth)


def level_recipe(level: str, rng: np.random.Generator, shape: tuple[int, int]) -> tuple[list[Step], str]:
    """The (distortion, strength) sequence and backdrop a level draws; see the module docstring."""
    if level not in LEVELS:
        raise EcgInputError(f"unknown distortion level {level!r}; choose one of {', '.join(LEVELS)}")
    steps: list[Step] = []

    def maybe(p: float, name: str, low: float, high: float) -> None:
        if rng.random() < p:
            steps.append((name, float(rng.uniform(low, high))))

    long_side = max(shape)
    if level == "none":
        return [], "scanner-dark"
    if level == "scan":
        maybe(1.0, "texture", 0.2, 0.6)
        maybe(0.15, "handwriting", 0.2, 0.5)
        maybe(0.1, "stamp", 0.3, 0.7)
        maybe(0.3, "creases", 0.2, 0.6)
        maybe(0.4, "wrinkles", 0.1, 0.4)
        maybe(1.0, "rotation", 0.03, 0.33)
        maybe(0.7, "color_cast", 0.1, 0.5)
        maybe(0.8, "contrast", 0.1, 0.5)
        maybe(0.5, "lighting", 0.05, 0.25)
        maybe(0.6, "blur", 0.1, 0.33)
        maybe(0.5, "speckle", 0.1, 0.35)
        maybe(0.5, "poisson_noise", 0.05, 0.35)
        maybe(1.0, "jpeg", 0.05, 0.3)
        return steps, str(rng.choice(["scanner-dark", "scanner-white"]))
    if level == "photo":
        maybe(1.0, "texture", 0.2, 0.6)
        maybe(0.2, "handwriting", 0.2, 0.6)
        maybe(0.1, "stamp", 0.3, 0.8)
        maybe(0.3, "creases", 0.2, 0.6)
        maybe(0.6, "wrinkles", 0.2, 0.6)
        maybe(1.0, "perspective", 0.2, 0.7)
        maybe(0.6, "rotation", 0.0, 0.4)
        steps.append(("downscale", _shrink_to(long_side, rng.uniform(1400, 1800))))
        maybe(1.0, "lighting", 0.4, 1.0)
        maybe(0.6, "shadow", 0.3, 0.8)
        maybe(1.0, "color_cast", 0.3, 0.8)
        maybe(1.0, "contrast", 0.2, 0.8)
        maybe(1.0, "blur", 0.33, 0.6)
        maybe(1.0, "poisson_noise", 0.2, 0.6)
        maybe(1.0, "jpeg", 0.12, 0.42)
        return steps, str(rng.choice(["desk", "desk", "table"]))
    # hard
    maybe(1.0, "texture", 0.5, 1.0)
    maybe(0.7, "handwriting", 0.4, 1.0)
    maybe(0.5, "stamp", 0.5, 1.0)
    maybe(0.8, "creases", 0.5, 1.0)
    maybe(1.0, "wrinkles", 0.5, 1.0)
    maybe(0.8, "perspective", 0.5, 1.0)
    maybe(1.0, "rotation", 0.4, 1.0)
    maybe(0.5, "crop", 0.3, 1.0)
    steps.append(("downscale", _shrink_to(long_side, rng.uniform(1000, 1600))))
    maybe(1.0, "lighting", 0.7, 1.0)
    maybe(0.8, "shadow", 0.5, 1.0)
    maybe(1.0, "color_cast", 0.5, 1.0)
    maybe(1.0, "contrast", 0.5, 1.0)
    maybe(1.0, "blur", 0.5, 1.0)
    maybe(0.7, "poisson_noise", 0.5, 1.0)
    maybe(0.5, "speckle", 0.3, 0.8)
    maybe(1.0, "jpeg", 0.4, 0.8)
    return steps, str(rng.choice(BACKGROUNDS))


def _shrink_to(long_side: int, target: float) -> float:
    """Downscale strength that brings ``long_side`` px to ``target`` px (0 if already smaller)."""
    factor = min(1.0, target / long_side)
    return float(np.clip((1.0 - factor) / 0.6, 0.0, 1.0))
