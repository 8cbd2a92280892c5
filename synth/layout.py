"""Printout layouts: which lead is plotted where on the sheet, and over which time window.

A layout is a grid of rows × columns of leads plus optional full-width rhythm strips. The printed strip is
``strip_mm`` wide (250 mm: 10 s at 25 mm/s, 5 s at 50 mm/s); each column shows an equal share of that time, so in
the standard 3×4 the columns I/II/III, aVR/aVL/aVF, V1/V2/V3, V4/V5/V6 start at 0, 2.5, 5 and 7.5 s and a rhythm
strip shows the whole 10 s. Positions are in mm from the sheet's top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecg.errors import EcgInputError
from ecg.record import LEADS


@dataclass(frozen=True)
class LayoutDef:
    """Lead arrangement: ``grid[row][column]`` lead names, then full-width rhythm strips (one row each)."""

    grid: tuple[tuple[str, ...], ...]
    rhythm: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        return len(self.grid) + len(self.rhythm)

    @property
    def n_columns(self) -> int:
        return len(self.grid[0])

    @property
    def leads(self) -> tuple[str, ...]:
        """Every lead the layout plots (each once, in standard order)."""
        used = {lead for row in self.grid for lead in row} | set(self.rhythm)
        return tuple(lead for lead in LEADS if lead in used)


_STANDARD_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))

LAYOUTS: dict[str, LayoutDef] = {
    "3x4+1": LayoutDef(_STANDARD_3X4, ("II",)),
    "3x4+3": LayoutDef(_STANDARD_3X4, ("V1", "II", "V5")),
    "3x4": LayoutDef(_STANDARD_3X4),
    "6x2": LayoutDef((("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"))),
    "12x1": LayoutDef(tuple((lead,) for lead in LEADS)),
}
"""DataSynth's own layouts by name (the ones :func:`synth.spec.random_spec` draws from)."""

EXTRA_LAYOUTS: dict[str, LayoutDef] = {}
"""Layouts a caller added with :func:`register_layout` (looked up by name, never drawn at random)."""


def register_layout(name: str, definition: LayoutDef) -> None:
    """Make ``name`` renderable (e.g. a training print mix's other rhythm lead or lead order); idempotent.

    A name of DataSynth's own, or one already registered with another definition, is refused (`ValueError`).
    """
    if name in LAYOUTS or EXTRA_LAYOUTS.get(name, definition) != definition:
        raise ValueError(f"layout {name!r} is already defined")
    EXTRA_LAYOUTS[name] = definition


@dataclass(frozen=True)
class PanelPlan:
    """One lead's window on the sheet.

    ``t_start_s``/``t_stop_s`` are record times (s); the sample at ``t_start_s`` is drawn at ``x_start_mm`` and
    time runs right at the paper speed. ``baseline_mm`` is where 0 mV is drawn; ``top_mm``/``bottom_mm`` bound
    the row's band (traces may leave it: real printouts overlap).
    """

    lead: str
    row: int
    column: int
    rhythm: bool
    t_start_s: float
    t_stop_s: float
    x_start_mm: float
    x_stop_mm: float
    baseline_mm: float
    top_mm: float
    bottom_mm: float


@dataclass(frozen=True)
class RowPlan:
    """A printed row: its baseline and band (mm), and its panels left to right."""

    index: int
    baseline_mm: float
    top_mm: float
    bottom_mm: float
    panels: tuple[PanelPlan, ...]


def layout_def(name: str) -> LayoutDef:
    """The layout called ``name``; unknown names raise `EcgInputError` listing the valid ones."""
    definition = LAYOUTS.get(name) or EXTRA_LAYOUTS.get(name)
    if definition is None:
        raise EcgInputError(f"unknown layout {name!r}; choose one of {', '.join([*LAYOUTS, *EXTRA_LAYOUTS])}")
    return definition


def shown_duration_s(strip_mm: float, speed_mm_s: float) -> float:
    """Seconds of signal one full-width strip shows at ``speed_mm_s``."""
    return strip_mm / speed_mm_s


def plan_layout(
    name: str,
    *,
    speed_mm_s: float,
    x_start_mm: float,
    top_mm: float,
    bottom_mm: float,
    strip_mm: float = 250.0,
    start_s: float = 0.0,
    baseline_fraction: float = 0.6,
) -> tuple[RowPlan, ...]:
    """Place every panel of layout ``name`` between ``top_mm`` and ``bottom_mm``, traces from ``x_start_mm``.

    Rows share the height equally; the baseline sits ``baseline_fraction`` of the way down each row's band.
    """
    layout = layout_def(name)
    duration = shown_duration_s(strip_mm, speed_mm_s)
    pitch = (bottom_mm - top_mm) / layout.n_rows
    rows = []
    all_rows = [(tuple(r), False) for r in layout.grid] + [((lead,), True) for lead in layout.rhythm]
    for index, (leads, rhythm) in enumerate(all_rows):
        band_top = top_mm + index * pitch
        baseline = band_top + baseline_fraction * pitch
        span = duration / len(leads)
        panels = tuple(
            PanelPlan(
                lead=lead,
                row=index,
                column=col,
                rhythm=rhythm,
                t_start_s=start_s + col * span,
                t_stop_s=start_s + (col + 1) * span,
                x_start_mm=x_start_mm + col * span * speed_mm_s,
                x_stop_mm=x_start_mm + (col + 1) * span * speed_mm_s,
                baseline_mm=baseline,
                top_mm=band_top,
                bottom_mm=band_top + pitch,
            )
            for col, lead in enumerate(leads)
        )
        rows.append(RowPlan(index, baseline, band_top, band_top + pitch, panels))
    return tuple(rows)
