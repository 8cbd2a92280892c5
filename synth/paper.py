"""ECG paper: sheet sizes, grid styles and the cached grid raster.

Geometry is exact: 1 mm of paper is ``dpi / 25.4`` px, the minor grid has a 1 mm pitch and every fifth line is a
major (5 mm) line. Lines are drawn with exact area coverage (anti-aliased), so a 0.1 mm line at 200 dpi is a faint
0.8 px line as on a real print. Colours are RGB tuples; images are BGR (OpenCV order).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

import numpy as np

from ecg.errors import EcgInputError

MM_PER_INCH = 25.4

PAPER_SIZES_MM: dict[str, tuple[float, float]] = {"letter": (279.4, 215.9), "a4": (297.0, 210.0)}
"""Landscape sheet sizes (width, height) in mm."""

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class PaperStyle:
    """How the paper and its grid look.

    Parameters
    ----------
    name : str
        Preset name the style came from.
    background, minor_color, major_color : (r, g, b)
        Paper colour and grid-line colours, 0–255.
    minor_width_mm, major_width_mm : float
        Grid line widths in mm (0 hides that grid).
    minor_style : {"lines", "dots"}
        Minor grid as continuous lines or as dots at the 1 mm intersections.
    grid_margin_mm : float
        Blank border around the gridded area (0: grid to the sheet edge).
    """

    name: str
    background: RGB
    minor_color: RGB
    major_color: RGB
    minor_width_mm: float = 0.08
    major_width_mm: float = 0.2
    minor_style: Literal["lines", "dots"] = "lines"
    grid_margin_mm: float = 0.0

    @property
    def has_grid(self) -> bool:
        return self.minor_width_mm > 0 or self.major_width_mm > 0


PAPER_STYLES: dict[str, PaperStyle] = {
    "red": PaperStyle("red", (255, 255, 255), (252, 196, 196), (236, 86, 86)),
    "pink": PaperStyle("pink", (255, 240, 240), (246, 182, 188), (226, 104, 116), 0.1, 0.22),
    "thermal": PaperStyle("thermal", (250, 243, 228), (238, 176, 160), (214, 92, 84), 0.08, 0.18),
    "green": PaperStyle("green", (244, 252, 244), (172, 222, 176), (72, 160, 96), 0.08, 0.2),
    "blue": PaperStyle("blue", (243, 247, 255), (182, 204, 240), (80, 124, 206), 0.08, 0.2),
    "grey": PaperStyle("grey", (252, 252, 252), (206, 206, 206), (146, 146, 146), 0.08, 0.2),
    "bw": PaperStyle("bw", (255, 255, 255), (150, 150, 150), (40, 40, 40), 0.1, 0.15, "dots"),
    "none": PaperStyle("none", (255, 255, 255), (255, 255, 255), (255, 255, 255), 0.0, 0.0),
}
"""Preset paper styles by name."""


def paper_style(name_or_style: str | PaperStyle) -> PaperStyle:
    """Resolve a preset name (or pass a style through); unknown names raise `EcgInputError` listing the presets."""
    if isinstance(name_or_style, PaperStyle):
        return name_or_style
    try:
        return PAPER_STYLES[str(name_or_style).lower()]
    except KeyError:
        raise EcgInputError(
            f"unknown paper {name_or_style!r}; choose one of {', '.join(PAPER_STYLES)}"
        ) from None


def jitter_style(style: PaperStyle, rng: np.random.Generator, amount: float = 8.0) -> PaperStyle:
    """A copy of ``style`` with colours moved by up to ``amount`` (0–255 units) and widths by ±25 %."""

    def shift(color: RGB) -> RGB:
        moved = (int(np.clip(c + rng.uniform(-amount, amount), 0, 255)) for c in color)
        return tuple(moved)  # type: ignore[return-value]

    return replace(
        style,
        background=tuple(int(np.clip(c + rng.uniform(-amount / 2, 0), 0, 255)) for c in style.background),
        minor_color=shift(style.minor_color),
        major_color=shift(style.major_color),
        minor_width_mm=style.minor_width_mm * rng.uniform(0.75, 1.25),
        major_width_mm=style.major_width_mm * rng.uniform(0.75, 1.25),
    )


def pixels_per_mm(dpi: float) -> float:
    """Pixels per mm of paper at ``dpi`` (exact: ``dpi / 25.4``)."""
    return float(dpi) / MM_PER_INCH


def sheet_shape(paper_size: str, dpi: float) -> tuple[int, int]:
    """Image ``(height, width)`` in px of a landscape sheet at ``dpi``."""
    if paper_size not in PAPER_SIZES_MM:
        raise EcgInputError(f"unknown paper size {paper_size!r}; choose one of {', '.join(PAPER_SIZES_MM)}")
    w_mm, h_mm = PAPER_SIZES_MM[paper_size]
    ppm = pixels_per_mm(dpi)
    return int(round(h_mm * ppm)), int(round(w_mm * ppm))


def grid_image(style: PaperStyle, shape: tuple[int, int], px_per_mm: float) -> np.ndarray:
    """The blank sheet with its grid, uint8 BGR of ``shape`` (a fresh, writable copy of a cached raster)."""
    return _grid_cached(style, int(shape[0]), int(shape[1]), round(float(px_per_mm), 6)).copy()


@lru_cache(maxsize=12)
def _grid_cached(style: PaperStyle, height: int, width: int, px_per_mm: float) -> np.ndarray:
    bg = np.array(style.background[::-1], dtype=np.float32)
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = bg
    if style.has_grid:
        margin = style.grid_margin_mm * px_per_mm
        inside_y = _inside(height, margin)[:, None]
        inside_x = _inside(width, margin)[None, :]
        inside = inside_y * inside_x
        for pitch_mm, width_mm, color, dots in (
            (1.0, style.minor_width_mm, style.minor_color, style.minor_style == "dots"),
            (5.0, style.major_width_mm, style.major_color, False),
        ):
            if width_mm <= 0:
                continue
            line_px = width_mm * px_per_mm
            if dots:  # a dot must stay visible: at least ~1.2 px across
                line_px = max(line_px, 1.2)
            ax = _line_coverage(width, pitch_mm * px_per_mm, line_px, margin)
            ay = _line_coverage(height, pitch_mm * px_per_mm, line_px, margin)
            alpha = ay[:, None] * ax[None, :] if dots else np.maximum(ay[:, None], ax[None, :])
            alpha = (alpha * inside)[..., None]
            image += alpha * (np.array(color[::-1], dtype=np.float32) - image)
    out = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    out.setflags(write=False)
    return out


def _line_coverage(n: int, pitch_px: float, line_px: float, origin_px: float) -> np.ndarray:
    """Share of each pixel ``[i - 0.5, i + 0.5]`` covered by lines at ``origin + k * pitch``, ``line_px`` wide."""
    centers = np.arange(n, dtype=np.float64)
    k = np.round((centers - origin_px) / pitch_px)
    line = origin_px + k * pitch_px
    overlap = np.minimum(centers + 0.5, line + line_px / 2) - np.maximum(centers - 0.5, line - line_px / 2)
    return np.clip(overlap, 0.0, 1.0).astype(np.float32)


def _inside(n: int, margin_px: float) -> np.ndarray:
    pos = np.arange(n, dtype=np.float32)
    return ((pos >= margin_px - 0.5) & (pos <= n - 1 - margin_px + 0.5)).astype(np.float32)
