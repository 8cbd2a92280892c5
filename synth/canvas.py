"""The working state of a distortion chain: pixels, trace mask, pending geometric steps and the backdrop.

Geometric distortions only queue a step; the queue is resampled in one ``cv2.remap`` when pixels are next needed
(`Canvas.pixels`), so rotation + perspective + wrinkles + scaling cost one interpolation, and the ground-truth
points are mapped through the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from synth.geometry import DisplacementField, Homography, Warp, WarpStep, resample
from synth.truth import AppliedDistortion

BACKGROUNDS = ("desk", "scanner-dark", "scanner-white", "table")
"""What shows around the sheet after rotation, perspective or downscaling."""


@dataclass
class Canvas:
    """Image (uint8 BGR), mask (uint8 lead ids), the warp applied so far and the steps not yet resampled."""

    image: np.ndarray
    mask: np.ndarray
    warp: Warp
    px_per_mm: float
    rng: np.random.Generator
    background: str = "scanner-dark"
    pending: list[WarpStep] = field(default_factory=list)
    log: list[AppliedDistortion] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """Size (width, height) of the image once pending steps are applied."""
        return self.pending[-1].out_size if self.pending else (self.image.shape[1], self.image.shape[0])

    def queue(self, step: WarpStep) -> None:
        self.pending.append(step)

    def pixels(self, paper_stage: bool = False) -> np.ndarray:
        """The current pixels, resampling pending steps first.

        ``paper_stage`` effects (texture, ink, creases) happen on the sheet itself: they leave pending paper
        deformations (displacement fields) queued and only force camera steps (homographies) through.
        """
        if self.pending and not (paper_stage and all(isinstance(s, DisplacementField) for s in self.pending)):
            self.flush()
        return self.image

    def flush(self) -> None:
        if not self.pending:
            return
        scale = 1.0
        for step in self.pending:
            if isinstance(step, Homography):
                scale *= step.scale()
        source = self.image
        if scale < 0.8:  # anti-alias before shrinking
            sigma = 0.5 * float(np.sqrt(1.0 / scale**2 - 1.0))
            source = cv2.GaussianBlur(source, (0, 0), sigma)
        w, h = self.size
        backdrop = make_background(self.background, (w, h), self.rng)
        self.image, self.mask = resample(source, self.mask, self.pending, backdrop)
        self.warp = Warp(self.warp.render_size, [*self.warp.steps, *self.pending])
        self.pending = []


def make_background(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A backdrop image (uint8 BGR) of ``size`` (width, height): wood-like desk, scanner lid or plain table."""
    w, h = size
    if kind == "desk":
        base = np.array(rng.choice([[60, 95, 140], [40, 70, 110], [90, 120, 150], [70, 70, 75]]), np.float32)
        grain = rng.normal(0, 1, (max(2, h // 14), 5)).astype(np.float32)
        grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_CUBIC)
        fine = cv2.resize(rng.normal(0, 1, (max(2, h // 3), 12)).astype(np.float32), (w, h),
                          interpolation=cv2.INTER_CUBIC)
        shade = 1.0 + 0.10 * grain + 0.025 * fine
        out = base[None, None, :] * shade[..., None]
    elif kind in ("scanner-dark", "scanner-white"):
        level = rng.uniform(15, 45) if kind == "scanner-dark" else rng.uniform(225, 250)
        out = np.full((h, w, 3), level, np.float32)
    elif kind == "table":
        color = rng.uniform(90, 200, 3).astype(np.float32)
        ramp = cv2.resize(rng.normal(0, 1, (3, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        out = color[None, None, :] * (1.0 + 0.08 * ramp[..., None])
    else:
        raise ValueError(f"unknown background {kind!r}; valid: {', '.join(BACKGROUNDS)}")
    return np.clip(out, 0, 255).astype(np.uint8)
