"""Draw an `EcgRecord` on a reportlab canvas as a clinical 12-lead printout, in true paper millimetres.

Layout 3×4 + rhythm strip(s): rows (I, aVR, V1, V4), (II, aVL, V2, V5), (III, aVF, V3, V6), each column 2.5 s at
25 mm/s, then one 10 s strip per rhythm lead. A 1 mm / 5 mm grid (ECG paper), a 1 mV calibration pulse (0.2 s wide)
at the start of every row, and the lead names. Everything is vector graphics positioned in millimetres, so a page
rendered at 254 dpi shows the grid at exactly 10 px/mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from reportlab.lib.colors import Color
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from ecg.record import EcgRecord

STANDARD_ROWS: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
MINOR_COLOR = Color(0.98, 0.78, 0.78)
MAJOR_COLOR = Color(0.93, 0.45, 0.45)
TRACE_COLOR = Color(0, 0, 0)
PULSE_WIDTH_S = 0.2


@dataclass(frozen=True)
class PrintSettings:
    """Paper speed (mm/s), gain (mm/mV), row pitch (mm) and the rhythm-strip leads."""

    speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0
    row_pitch_mm: float = 25.0
    column_s: float = 2.5
    rhythm_leads: tuple[str, ...] = ("II",)

    @property
    def pulse_mm(self) -> float:
        return PULSE_WIDTH_S * self.speed_mm_s + 3.0  # pulse plus a 3 mm gap before the trace

    def width_mm(self) -> float:
        return self.pulse_mm + 4 * self.column_s * self.speed_mm_s

    def height_mm(self) -> float:
        return (len(STANDARD_ROWS) + len(self.rhythm_leads)) * self.row_pitch_mm


def draw_grid(c: Canvas, x_mm: float, y_mm: float, width_mm: int, height_mm: int) -> None:
    """ECG paper: 1 mm minor lines and 5 mm major lines, lower-left corner at (x_mm, y_mm)."""
    c.saveState()
    for step, color, line_width in ((1, MINOR_COLOR, 0.25), (5, MAJOR_COLOR, 0.6)):
        c.setStrokeColor(color)
        c.setLineWidth(line_width)
        path = c.beginPath()
        for i in range(0, int(width_mm) + 1, step):
            path.moveTo((x_mm + i) * mm, y_mm * mm)
            path.lineTo((x_mm + i) * mm, (y_mm + height_mm) * mm)
        for j in range(0, int(height_mm) + 1, step):
            path.moveTo(x_mm * mm, (y_mm + j) * mm)
            path.lineTo((x_mm + width_mm) * mm, (y_mm + j) * mm)
        c.drawPath(path, stroke=1, fill=0)
    c.restoreState()


def draw_ecg(c: Canvas, record: EcgRecord, x_mm: float, y_mm: float, settings: PrintSettings | None = None) -> None:
    """Draw the 3×4 + rhythm printout with its grid; (x_mm, y_mm) is the lower-left corner of the grid.

    Leads missing for a window are left blank (their label is drawn with "—" to say so).
    """
    s = settings or PrintSettings()
    width = int(np.ceil(s.width_mm() / 5) * 5)
    height = int(np.ceil(s.height_mm() / 5) * 5)
    draw_grid(c, x_mm, y_mm, width, height)
    rows: list[list[tuple[str, float, float]]] = [
        [(lead, col * s.column_s, s.column_s) for col, lead in enumerate(names)] for names in STANDARD_ROWS
    ]
    rows += [[(lead, 0.0, 4 * s.column_s)] for lead in s.rhythm_leads]
    for r, row in enumerate(rows):
        baseline = y_mm + height - (r + 0.6) * s.row_pitch_mm
        _draw_pulse(c, x_mm + 1.0, baseline, s)
        for lead, t0, span in row:
            x0 = x_mm + s.pulse_mm + t0 * s.speed_mm_s
            drawn = _draw_trace(c, record, lead, t0, span, x0, baseline, s)
            c.setFont("Helvetica", 7)
            c.setFillColor(TRACE_COLOR)
            c.drawString((x0 + 1) * mm, (baseline + 0.45 * s.row_pitch_mm - 2.5) * mm, lead if drawn else f"{lead} —")
            if t0 > 0:  # lead-change tick
                c.setLineWidth(0.8)
                c.line(x0 * mm, (baseline - 2) * mm, x0 * mm, (baseline + 2) * mm)


def _draw_pulse(c: Canvas, x_mm: float, baseline_mm: float, s: PrintSettings) -> None:
    w = PULSE_WIDTH_S * s.speed_mm_s
    h = s.gain_mm_mv
    c.setStrokeColor(TRACE_COLOR)
    c.setLineWidth(0.6)
    path = c.beginPath()
    path.moveTo(x_mm * mm, baseline_mm * mm)
    path.lineTo((x_mm + 1) * mm, baseline_mm * mm)
    path.lineTo((x_mm + 1) * mm, (baseline_mm + h) * mm)
    path.lineTo((x_mm + 1 + w) * mm, (baseline_mm + h) * mm)
    path.lineTo((x_mm + 1 + w) * mm, baseline_mm * mm)
    path.lineTo((x_mm + 2 + w) * mm, baseline_mm * mm)
    c.drawPath(path, stroke=1, fill=0)


def _draw_trace(
    c: Canvas, record: EcgRecord, lead: str, t0: float, span: float, x0_mm: float, baseline_mm: float, s: PrintSettings
) -> bool:
    """Draw one lead window; returns False when the lead has no samples there."""
    start = int(round(t0 * record.fs))
    stop = min(record.n_samples, int(round((t0 + span) * record.fs)))
    values = np.asarray(record.lead(lead)[start:stop], dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return False
    values = values - np.nanmedian(values)  # centre the window on its own baseline
    xs = x0_mm + np.arange(len(values)) / record.fs * s.speed_mm_s
    ys = baseline_mm + values * s.gain_mm_mv
    c.setStrokeColor(TRACE_COLOR)
    c.setLineWidth(0.5)
    c.setLineJoin(1)
    path = c.beginPath()
    pen_down = False
    for x, y, ok in zip(xs, ys, finite, strict=False):
        if not ok:
            pen_down = False
        elif pen_down:
            path.lineTo(x * mm, y * mm)
        else:
            path.moveTo(x * mm, y * mm)
            pen_down = True
    c.drawPath(path, stroke=1, fill=0)
    return True
