"""Pixel scale, paper speed and gain of a rectified ECG: from the grid (:mod:`digitize.grid`) and the calibration
pulses (:mod:`digitize.pulse`).

The grid gives px/mm along x and y. The calibration pulse (1 mV for 0.2 s: 10 mm tall at 10 mm/mV, 5 mm wide at
25 mm/s) then sets the gain (5/10/20 mm/mV) and the paper speed (25/50 mm/s) when it clearly says so. Without a
grid the pulse gives the scale itself (height → px/mm along y, width → along x, standard speed and gain assumed);
without either, the page width does (stated in the notes, with lower confidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from digitize.grid import (  # noqa: F401  (re-exported: the scale's public names live here)
    MAX_PX_PER_MM,
    MIN_PX_PER_MM,
    TYPICAL_PAGE_WIDTH_MM,
    GridEvidence,
    grid_evidence,
    grid_pitch,
    grid_scale,
)
from digitize.pulse import PULSE_WIDTH_RANGE_MM, Pulse, find_pulse  # noqa: F401

STANDARD_SPEED_MM_S = 25.0
"""Paper speed (mm/s) assumed unless read from the image."""

STANDARD_GAIN_MM_MV = 10.0
"""Gain (mm/mV) assumed unless the calibration pulse says otherwise."""

PULSE_WIDTH_S = 0.2
"""Duration of the calibration pulse's step (s): 5 mm at 25 mm/s, 10 mm at 50 mm/s."""

STEP_WIDTH_RANGE_MM = (3.5, 12.0)
"""Step widths (mm, stroke removed) a calibration pulse has on gridded paper: 5 mm at 25 mm/s, 10 mm at 50 mm/s."""

KNOWN_SPEEDS_MM_S = (25.0, 50.0)
"""Paper speeds a pulse width may set (12.5 mm/s pulses, 2.5 mm wide, are too close to 25 mm/s ones to tell)."""

KNOWN_GAINS_MM_MV = (5.0, 10.0, 20.0)
"""Gains an ECG printer offers; a pulse within 15 % of one of them sets the gain."""


@dataclass(frozen=True)
class Calibration:
    """Scale of a rectified ECG image.

    Attributes
    ----------
    px_per_mm_x, px_per_mm_y : float
        Pixels per millimetre along time (x) and amplitude (y).
    speed_mm_s : float
        Paper speed in mm/s.
    gain_mm_mv : float
        Gain in mm/mV.
    source : str
        ``"grid"`` (pitch measured from the grid), ``"pulse"`` (no usable grid: scale from the calibration pulse's
        height and width at the standard speed and gain) or ``"assumed"`` (neither: page-width guess).
    grid_strength : float
        Periodicity of the grid (autocorrelation at the pitch, 0–1).
    pulse_mm : float or None
        Height of the calibration pulse found, in mm (None when no pulse was found).
    notes : tuple of str
        Human-readable remarks (what was assumed, what disagreed).
    speed_source, gain_source : str
        Where the paper speed and the gain came from: ``"pulse"`` (the calibration pulse's width / height),
        ``"printed text"``, ``"user"`` (a hint) or ``"assumed"`` (the standard 25 mm/s, 10 mm/mV).
    """

    px_per_mm_x: float
    px_per_mm_y: float
    speed_mm_s: float = STANDARD_SPEED_MM_S
    gain_mm_mv: float = STANDARD_GAIN_MM_MV
    source: str = "grid"
    grid_strength: float = 0.0
    pulse_mm: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    speed_source: str = "assumed"
    gain_source: str = "assumed"

    @property
    def px_per_s(self) -> float:
        """Pixels per second along x."""
        return self.px_per_mm_x * self.speed_mm_s

    @property
    def px_per_mv(self) -> float:
        """Pixels per millivolt along y."""
        return self.px_per_mm_y * self.gain_mm_mv

    def with_note(self, note: str) -> Calibration:
        return replace(self, notes=self.notes + (note,))


def gain_from_pulses(pulse_heights_mm: list[float]) -> tuple[float, str]:
    """Gain (mm/mV) the calibration pulses imply, snapped to a printer setting, with a note.

    The median pulse height chooses; a gain other than 10 mm/mV is kept only when more pulses agree on it than on
    10 mm/mV, and at least two do (or the pulse is the only one found), as for the paper speed
    (:func:`speed_from_pulses`).
    """
    if not pulse_heights_mm:
        return STANDARD_GAIN_MM_MV, f"no calibration pulse found: gain {STANDARD_GAIN_MM_MV:g} mm/mV assumed"
    height = float(np.median(pulse_heights_mm))
    for gain in KNOWN_GAINS_MM_MV:
        if abs(height / gain - 1.0) < 0.15:
            if gain == STANDARD_GAIN_MM_MV:
                return gain, f"calibration pulse {height:.1f} mm tall confirms gain {gain:g} mm/mV"
            agreeing = sum(abs(h / gain - 1.0) < 0.15 for h in pulse_heights_mm)
            standard = sum(abs(h / STANDARD_GAIN_MM_MV - 1.0) < 0.15 for h in pulse_heights_mm)
            if agreeing > standard and (agreeing >= 2 or len(pulse_heights_mm) == 1):
                return gain, f"gain {gain:g} mm/mV (calibration pulse {height:.1f} mm tall); used"
            # a pulse fused with a label or a neighbouring trace reads tall (foreign test f0014: 21.6 mm beside
            # a 9.9 mm pulse halved every lead): a non-standard gain needs more agreeing pulses than 10 mm/mV has
            return STANDARD_GAIN_MM_MV, (
                f"calibration pulses disagree ({agreeing} look like {gain:g} mm/mV, {standard} like "
                f"{STANDARD_GAIN_MM_MV:g}): {STANDARD_GAIN_MM_MV:g} mm/mV assumed"
            )
    return STANDARD_GAIN_MM_MV, (
        f"calibration pulse {height:.1f} mm tall matches no standard gain: {STANDARD_GAIN_MM_MV:g} mm/mV assumed"
    )


def calibrate(grid_layer: np.ndarray, *, paper_mask: np.ndarray | None = None) -> Calibration:
    """Scale of a rectified image from its grid; without a grid, a provisional page-width scale.

    The gain stays at the standard 10 mm/mV until :func:`apply_pulses` has seen the calibration pulses.
    """
    px_x, px_y, strength, note = grid_scale(grid_layer, mask=paper_mask)
    plausible = all(np.isfinite(v) and MIN_PX_PER_MM <= v <= MAX_PX_PER_MM for v in (px_x, px_y))
    if plausible and 0.7 < px_x / px_y < 1.4:
        return Calibration(px_x, px_y, source="grid", grid_strength=strength, notes=(note,))
    width = grid_layer.shape[1] if paper_mask is None else max(1, int(paper_mask.any(axis=0).sum()))
    guess = width / TYPICAL_PAGE_WIDTH_MM
    return Calibration(
        guess,
        guess,
        source="assumed",
        grid_strength=strength,
        notes=("no usable grid: scale provisionally from the page width",),
    )


def apply_pulses(calibration: Calibration, pulses: list[Pulse | None]) -> Calibration:
    """Confirm or correct the gain from the calibration pulses; without a grid, take the scale from them.

    Without a grid the pulse sets the scale (:func:`_scale_from_pulses`).
    """
    found = [p for p in pulses if p is not None]
    heights_px = [p.height_px for p in found]
    if calibration.source != "grid":
        if not heights_px:
            return calibration.with_note("no calibration pulse either: scale assumed from the page width")
        return _scale_from_pulses(
            calibration, float(np.median(heights_px)), float(np.median([p.step_width_px for p in found]))
        )
    # With the grid's scale known, a "pulse" whose step is not 0.2 s wide at 25 or 50 mm/s is a QRS complex.
    found = [
        p
        for p in found
        if STEP_WIDTH_RANGE_MM[0] <= p.step_width_px / calibration.px_per_mm_x <= STEP_WIDTH_RANGE_MM[1]
    ]
    heights_px = [p.height_px for p in found]
    heights_mm = [h / calibration.px_per_mm_y for h in heights_px]
    gain, note = gain_from_pulses(heights_mm)
    speed, speed_note = speed_from_pulses([p.step_width_px / calibration.px_per_mm_x for p in found])
    pulse_mm = float(np.median(heights_mm)) if heights_mm else None
    notes = calibration.notes + (note,) + ((speed_note,) if speed_note else ())
    return replace(
        calibration,
        gain_mm_mv=gain,
        speed_mm_s=speed,
        pulse_mm=pulse_mm,
        notes=notes,
        gain_source="pulse" if heights_mm and "assumed" not in note else "assumed",
        speed_source="pulse" if found and "assumed" not in speed_note else "assumed",
    )


PULSE_SHAPES = ((25.0, 10.0), (50.0, 10.0), (25.0, 5.0))
"""(speed mm/s, gain mm/mV) a pulse on paper without a grid is read as; its width/height ratio in square pixels is
(speed / 25) / (gain / 10): 1, or 2 (50 mm/s or 5 mm/mV: the same shape). A ratio of 0.5 (20 mm/mV, rare) is more
often a pulse whose width was misread, so it is not taken."""


def _scale_from_pulses(calibration: Calibration, height_px: float, width_px: float) -> Calibration:
    """Scale of paper without a grid from its calibration pulse (1 mV tall, 0.2 s wide whatever the settings).

    The pulse fixes px per mV (its height) and px per second (its width), so the record's millivolts and seconds are
    right whichever print settings made it. Only the settings in mm are ambiguous: 50 mm/s at 10 mm/mV and 25 mm/s at
    5 mm/mV draw the same shape; the page width (a typical sheet) picks the one whose mm scale fits it, and the notes
    say so. A width that fits no standard shape is taken as misread: square pixels, 25 mm/s and 10 mm/mV assumed.
    """
    ratio = (width_px / (PULSE_WIDTH_S * STANDARD_SPEED_MM_S)) / (height_px / STANDARD_GAIN_MM_MV)
    shapes = [
        (v, g)
        for v, g in PULSE_SHAPES
        if abs(np.log(ratio / ((v / STANDARD_SPEED_MM_S) / (g / STANDARD_GAIN_MM_MV)))) < np.log(1.25)
    ]
    if not shapes:
        px = height_px / STANDARD_GAIN_MM_MV
        return replace(
            calibration,
            px_per_mm_x=px,
            px_per_mm_y=px,
            source="pulse",
            pulse_mm=STANDARD_GAIN_MM_MV,
            notes=calibration.notes
            + (
                "no grid: scale from the calibration pulse's height (1 mV = 10 mm, square pixels; its width fits no "
                f"standard paper speed); speed {STANDARD_SPEED_MM_S:g} mm/s and gain {STANDARD_GAIN_MM_MV:g} mm/mV "
                "assumed",
            ),
        )
    page_px_per_mm = calibration.px_per_mm_y  # the page-width guess made by calibrate()
    speed, gain = min(shapes, key=lambda vg: abs(np.log((height_px / vg[1]) / page_px_per_mm)))
    note = f"no grid: scale from the calibration pulse (1 mV tall, 0.2 s wide): {speed:g} mm/s, {gain:g} mm/mV"
    if len(shapes) > 1:
        others = " or ".join(f"{v:g} mm/s at {g:g} mm/mV" for v, g in shapes if (v, g) != (speed, gain))
        note += f" (same pulse shape as {others}; the page width chose; the record's mV and s hold either way)"
    return replace(
        calibration,
        px_per_mm_x=width_px / (PULSE_WIDTH_S * speed),
        px_per_mm_y=height_px / gain,
        speed_mm_s=speed,
        gain_mm_mv=gain,
        source="pulse",
        pulse_mm=gain,
        notes=calibration.notes + (note,),
        speed_source="pulse",
        gain_source="pulse",
    )


def speed_from_pulses(widths_mm: list[float]) -> tuple[float, str]:
    """Paper speed (mm/s) the calibration pulses' widths imply (0.2 s wide), with a note when it is not 25 mm/s.

    The speed changes only when at least two pulses agree on a standard speed other than 25 mm/s (10 mm wide at
    50 mm/s), and more than agree on 25 mm/s; one pulse alone, or widths between speeds, keep 25 mm/s and say so.
    """
    if not widths_mm:
        return STANDARD_SPEED_MM_S, ""
    width = float(np.median(widths_mm))
    implied = width / PULSE_WIDTH_S
    for speed in KNOWN_SPEEDS_MM_S:
        if abs(implied / speed - 1.0) < 0.15:
            if speed == STANDARD_SPEED_MM_S:
                return speed, ""
            agreeing = sum(abs(w / PULSE_WIDTH_S / speed - 1.0) < 0.15 for w in widths_mm)
            standard = sum(abs(w / PULSE_WIDTH_S / STANDARD_SPEED_MM_S - 1.0) < 0.15 for w in widths_mm)
            if agreeing >= 2 and agreeing > standard:  # pulses fused with a trace's start read wide (f0087)
                return speed, f"paper speed looks like {speed:g} mm/s (calibration pulse {width:.1f} mm wide); used"
            return STANDARD_SPEED_MM_S, (
                f"paper speed may be {speed:g} mm/s (one calibration pulse {width:.1f} mm wide); "
                f"{STANDARD_SPEED_MM_S:g} mm/s assumed"
            )
    return STANDARD_SPEED_MM_S, (
        f"calibration pulse {width:.1f} mm wide matches no standard paper speed: {STANDARD_SPEED_MM_S:g} mm/s assumed"
    )
