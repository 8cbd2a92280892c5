"""`RenderSpec`: everything that decides how a record is printed, its validation, and `random_spec`.

Lengths are in mm of paper, colours are RGB tuples (0–255), speeds in mm/s, gains in mm/mV.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from ecg.errors import EcgInputError
from synth.layout import layout_def, shown_duration_s
from synth.paper import PAPER_SIZES_MM, PAPER_STYLES, PaperStyle, jitter_style, paper_style
from synth.text import FONTS

RGB = tuple[int, int, int]

DPI_RANGE = (50.0, 600.0)
"""Accepted resolutions (dpi); the data sets use 100–300."""

PULSE_LEAD_IN_MM, PULSE_TAIL_MM, PULSE_WIDTH_S, PULSE_HEIGHT_MV = 1.5, 1.0, 0.2, 1.0
"""Calibration pulse: flat lead-in, then a 1 mV step held for 0.2 s, then a flat tail before the traces."""


@dataclass(frozen=True)
class RenderSpec:
    """How to print a record (see module docstring for units).

    ``top_mm`` is where the first row's band starts (room for the header above it), ``bottom_mm`` the blank
    height under the last row (room for the footer). ``label_offset_mm`` is the distance between the baseline and
    the label's near edge, below or above the trace (``label_position``; ``"none"`` prints no lead labels, as some
    devices and many cropped photos show).
    """

    layout: str = "3x4+1"
    speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0
    dpi: float = 200.0
    paper: PaperStyle = field(default_factory=lambda: PAPER_STYLES["red"])
    paper_size: str = "letter"
    trace_color: RGB = (0, 0, 0)
    trace_width_mm: float = 0.3
    font: str = "simplex"
    text_color: RGB = (0, 0, 0)
    label_position: Literal["below", "above", "none"] = "below"
    label_height_mm: float = 3.0
    label_offset_mm: float = 2.5
    margin_left_mm: float = 10.0
    top_mm: float = 60.0
    bottom_mm: float = 15.0
    baseline_fraction: float = 0.6
    strip_mm: float = 250.0
    start_s: float = 0.0
    header: bool = True
    footer: bool = True
    separators: bool = True
    pulses: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "paper", paper_style(self.paper))

    # --- derived geometry ------------------------------------------------------------------------------------
    @property
    def px_per_mm(self) -> float:
        return float(self.dpi) / 25.4

    @property
    def pulse_block_mm(self) -> float:
        return PULSE_LEAD_IN_MM + PULSE_WIDTH_S * self.speed_mm_s + PULSE_TAIL_MM

    @property
    def trace_x_start_mm(self) -> float:
        return self.margin_left_mm + (self.pulse_block_mm if self.pulses else 0.0)

    @property
    def duration_s(self) -> float:
        """Seconds of record one full-width strip shows."""
        return shown_duration_s(self.strip_mm, self.speed_mm_s)

    @property
    def trace_thickness_px(self) -> int:
        return max(1, int(round(self.trace_width_mm * self.px_per_mm)))

    def validate(self) -> RenderSpec:
        """Raise `EcgInputError` with a one-line reason if the spec cannot be printed; return ``self``."""
        layout_def(self.layout)
        if self.paper_size not in PAPER_SIZES_MM:
            raise EcgInputError(f"unknown paper size {self.paper_size!r}; choose one of {', '.join(PAPER_SIZES_MM)}")
        if self.font not in FONTS:
            raise EcgInputError(f"unknown font {self.font!r}; choose one of {', '.join(FONTS)}")
        if not (DPI_RANGE[0] <= float(self.dpi) <= DPI_RANGE[1]):
            raise EcgInputError(f"dpi {self.dpi:g} is outside {DPI_RANGE[0]:g}–{DPI_RANGE[1]:g}")
        if not (5.0 <= float(self.speed_mm_s) <= 200.0):
            raise EcgInputError(f"paper speed {self.speed_mm_s:g} mm/s is outside 5–200 mm/s (usually 25 or 50)")
        if not (0.5 <= float(self.gain_mm_mv) <= 100.0):
            raise EcgInputError(f"gain {self.gain_mm_mv:g} mm/mV is outside 0.5–100 mm/mV (usually 5, 10 or 20)")
        if not (0.01 <= self.trace_width_mm <= 3.0):
            raise EcgInputError(f"trace width {self.trace_width_mm:g} mm is outside 0.01–3 mm")
        if self.start_s < 0:
            raise EcgInputError(f"start time {self.start_s:g} s is negative")
        if self.label_position not in ("below", "above", "none"):
            raise EcgInputError(f"label position {self.label_position!r} must be 'below', 'above' or 'none'")
        width_mm, height_mm = PAPER_SIZES_MM[self.paper_size]
        right = self.trace_x_start_mm + self.strip_mm
        if self.margin_left_mm < 0 or right > width_mm:
            raise EcgInputError(
                f"the traces end at {right:.1f} mm but the {self.paper_size} sheet is {width_mm:g} mm wide; "
                "reduce the left margin or the strip length"
            )
        n_rows = layout_def(self.layout).n_rows
        band = (height_mm - self.bottom_mm - self.top_mm) / n_rows
        if self.top_mm < 0 or self.bottom_mm < 0 or band < 5.0:
            raise EcgInputError(
                f"layout {self.layout} needs at least 5 mm per row; top {self.top_mm:g} mm and bottom "
                f"{self.bottom_mm:g} mm leave {band:.1f} mm on a {height_mm:g} mm sheet"
            )
        return self


_TRACE_COLORS: tuple[tuple[RGB, float], ...] = (
    ((0, 0, 0), 0.62),
    ((20, 30, 90), 0.14),
    ((45, 45, 45), 0.14),
    ((10, 60, 30), 0.05),
    ((70, 20, 20), 0.05),
)
_PAPERS = {"red": 0.3, "pink": 0.14, "thermal": 0.1, "green": 0.08, "blue": 0.08, "grey": 0.1, "bw": 0.12,
           "none": 0.08}
_LAYOUT_WEIGHTS = {"3x4+1": 0.42, "3x4+3": 0.14, "3x4": 0.1, "6x2": 0.2, "12x1": 0.14}


def random_spec(
    rng: np.random.Generator,
    *,
    layout: str | None = None,
    dpi: float | None = None,
    paper: str | None = None,
    speed_mm_s: float | None = None,
    gain_mm_mv: float | None = None,
) -> RenderSpec:
    """Draw a varied, valid `RenderSpec`; keyword arguments pin the corresponding choice."""
    layout = layout or str(_pick(rng, _LAYOUT_WEIGHTS))
    layout_def(layout)
    n_rows = layout_def(layout).n_rows
    speed = speed_mm_s or float(rng.choice([25.0, 50.0], p=[0.85, 0.15]))
    if gain_mm_mv is None:
        gains = [5.0, 10.0, 20.0]
        gain = float(rng.choice(gains, p=[0.45, 0.5, 0.05] if n_rows >= 6 else [0.1, 0.75, 0.15]))
    else:
        gain = gain_mm_mv
    style = paper_style(paper or str(_pick(rng, _PAPERS)))
    if style.has_grid:
        style = jitter_style(style, rng)
        if style.name != "bw" and rng.random() < 0.1:
            style = replace(style, minor_style="dots")
        if rng.random() < 0.15:
            style = replace(style, grid_margin_mm=float(rng.uniform(3, 8)))
    header = bool(rng.random() < 0.75)
    max_top = 30.0 if n_rows >= 6 else 75.0
    top = float(rng.uniform(18, max_top)) if header else float(rng.uniform(6, min(max_top, 40)))
    snap = rng.random() < 0.7
    margin = float(rng.uniform(5, 14))
    if snap:
        top, margin = float(np.round(top)), float(np.round(margin))
    color = _TRACE_COLORS[int(rng.choice(len(_TRACE_COLORS), p=[w for _, w in _TRACE_COLORS]))][0]
    return RenderSpec(
        layout=layout,
        speed_mm_s=speed,
        gain_mm_mv=gain,
        dpi=float(dpi if dpi is not None else rng.choice([100, 150, 200, 200, 200, 250, 300])),
        paper=style,
        paper_size=str(rng.choice(["letter", "a4"], p=[0.6, 0.4])),
        trace_color=color,
        trace_width_mm=float(rng.uniform(0.18, 0.45)),
        font=str(rng.choice(list(FONTS))),
        text_color=color if rng.random() < 0.7 else (0, 0, 0),
        label_position="below" if rng.random() < 0.6 else "above",
        label_height_mm=float(rng.uniform(2.2, 4.0)),
        label_offset_mm=float(rng.uniform(1.5, 5.0)),
        margin_left_mm=margin,
        top_mm=top,
        bottom_mm=float(rng.uniform(8, 18)),
        baseline_fraction=float(rng.uniform(0.5, 0.68)),
        header=header,
        footer=bool(rng.random() < 0.8),
        separators=bool(rng.random() < 0.6),
        pulses=bool(rng.random() < 0.95),
    ).validate()


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]
