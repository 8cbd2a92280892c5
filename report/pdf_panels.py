"""Page 2 of the PDF report: the classifier panel, the cross-check table, the digitization summary and the pictures.

Each panel reads the report's typed results (:class:`report.sections.ClassifierOutputs`,
:class:`classify.crosscheck.CrossCheck`, :class:`report.sections.DigitizationSummary`), never the JSON form, and
returns the y (mm from the page bottom) below what it drew. User-supplied and model text goes through
:func:`xml.sax.saxutils.escape` before reaching a Paragraph.
"""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from classify.crosscheck import AUTHORITATIVE_WAVEFORM
from report.model import Report

if TYPE_CHECKING:  # types only: drawing loads no classifier runtime
    from classify.crosscheck import LabelCheck
    from classify.runtime import TiledResult

BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=7.5, leading=9)
SMALL = ParagraphStyle("small", fontName="Helvetica", fontSize=6.5, leading=8)
REVIEW_RED = colors.Color(0.99, 0.86, 0.82)


def yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "—"}[value]


def classifier_panel(c: Canvas, report: Report, saliency: np.ndarray | None, x: float, top: float, w: float) -> float:
    """The tiled network's top classes, the fusion verdict, the waveform classifier, the screening model, the model
    versions and (when computed) the saliency picture."""
    c.setFont("Helvetica-Bold", 8.5)
    c.drawString(x * mm, (top - 3) * mm, "Classifiers and the screening model")
    cls = report.classifiers
    if cls is None:
        reason = report.errors.get("classify", "not run")
        para = Paragraph(f"Not available: {escape(reason)}", SMALL)
        _, h = para.wrapOn(c, w * mm, 40 * mm)
        para.drawOn(c, x * mm, (top - 6) * mm - h)
        return top - 6 - h / mm
    yy = top - 8.0
    if cls.image is not None:
        yy = _tiled_lines(c, cls.image.tiled, x, top)
        fusion = cls.image.fusion
        c.setFont("Helvetica", 7.5)
        c.drawString(
            x * mm,
            yy * mm,
            f"Global/local fusion network: {fusion.label} (p abnormal {fusion.abnormal_probability:.2f}, "
            f"threshold {fusion.threshold:.2f}; {len(fusion.beats)} beats detected)",
        )
        yy -= 4
    yy = _waveform_and_screening_lines(c, report, x, yy)
    versions = ", ".join(f"{k} {v}" for k, v in cls.model_versions.items())
    para = Paragraph(f"models: {escape(versions)}", SMALL)
    _, h = para.wrapOn(c, w * mm, 20 * mm)
    para.drawOn(c, x * mm, (yy - 2) * mm - h)
    yy -= 2 + h / mm
    if saliency is not None:
        images(c, [(saliency, "Occlusion saliency (top decision) with beat boxes")], x, yy - 40, w, 38)
    return yy - 2


def _tiled_lines(c: Canvas, tiled: TiledResult, x: float, top: float) -> float:
    """The tiled network's top classes as bars; returns the y (mm) below them."""
    probs = sorted(tiled.probabilities.items(), key=lambda kv: -kv[1])[:6]
    c.setFont("Helvetica", 7.5)
    unvalidated = [name for name in tiled.probabilities if name not in tiled.validated]
    heading = "RGB-tiled ResNet (10 classes) — top classes"
    if unvalidated:
        heading += " (grey italic: not validated, not counted)"
    c.drawString(x * mm, (top - 8) * mm, heading + ":")
    for i, (name, p) in enumerate(probs):
        yy = top - 12.5 - i * 4
        fired = name in tiled.labels and name not in unvalidated
        c.setFont("Helvetica-Oblique" if name in unvalidated else "Helvetica-Bold" if fired else "Helvetica", 7.5)
        c.drawString((x + 2) * mm, yy * mm, name)
        c.setFillColor(colors.Color(0.75, 0.1, 0.1) if fired else colors.Color(0.6, 0.6, 0.6))
        c.rect((x + 16) * mm, yy * mm, max(0.3, 40 * p) * mm, 2.4 * mm, fill=1, stroke=0)
        c.setFillColor(colors.black)
        thr = tiled.thresholds.get(name)
        c.drawString((x + 58) * mm, yy * mm, f"{p:.2f}" + (f" (threshold {thr:.2f})" if thr is not None else ""))
    return top - 12.5 - len(probs) * 4 - 3


def _waveform_and_screening_lines(c: Canvas, report: Report, x: float, yy: float) -> float:
    """The waveform-feature classifier's ABNORMAL probability and labels, and the screening model's combined
    probability with its operating point; returns the y (mm) below them."""
    wave = report.classifiers.waveform if report.classifiers else None
    c.setFont("Helvetica", 7.5)
    if wave is not None:
        p = wave.probabilities.get("ABNORMAL")
        counted = [name for name in wave.labels if name in wave.validated and name != "ABNORMAL"]
        note = "" if "ABNORMAL" in wave.validated else ", not validated"
        c.drawString(x * mm, yy * mm, f"Waveform-feature classifier: p abnormal {p:.2f} (threshold "
                     f"{wave.thresholds.get('ABNORMAL', float('nan')):.2f}{note}); labels: "
                     f"{', '.join(counted) or 'none'}")
        yy -= 4
    status = report.status
    if status.abnormal_probability is not None and status.operating_point is not None:
        c.setFont("Helvetica-Bold", 7.5)
        c.drawString(x * mm, yy * mm, f"Screening model (calibrated): p abnormal "
                     f"{status.abnormal_probability:.2f}, operating point {status.operating_point:.2f} → "
                     f"{status.screening}")
        yy -= 4
    return yy


def crosscheck_table(c: Canvas, report: Report, x: float, top: float, w: float) -> float:
    """Draws the table and its key; returns the y (mm) below them."""
    c.setFont("Helvetica-Bold", 8.5)
    c.drawString(x * mm, (top - 3) * mm, "Cross-check (shared labels)")
    rows = [["label", "rules", "tiled", "fusion", "wf model", "status", "resolved"]]
    style = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 7),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
    ]
    for i, check in enumerate(report.crosscheck.labels, start=1):
        shown = {k: yes_no(v) + (" †" if k in check.excluded else "") for k, v in check.verdicts.items()}
        rows.append([check.label, shown["waveform"], shown["tiled"], shown["fusion"],
                     shown.get("waveform_model", "—"), check.status,
                     yes_no(check.resolved) + (" *" if _authoritative(check) else "")])
        if check.needs_review:
            style.append(("BACKGROUND", (0, i), (-1, i), REVIEW_RED))
    table = Table(rows, colWidths=[w * f * mm for f in (0.15, 0.12, 0.12, 0.12, 0.13, 0.21, 0.15)])
    table.setStyle(TableStyle(style))
    _, h = table.wrapOn(c, w * mm, 80 * mm)
    table.drawOn(c, x * mm, (top - 5) * mm - h)
    c.setFont("Helvetica", 6.5)
    c.drawString(x * mm, (top - 8) * mm - h, "* interval-defined: the waveform measurement is authoritative. "
                 "† not validated, not counted.")
    c.drawString(x * mm, (top - 11) * mm - h, "Red rows: sources disagree (shown for review; the screening model "
                 "weighs the sources).")
    return top - 11 - h / mm


def _authoritative(check: LabelCheck) -> bool:
    """The waveform measurement decides this label (interval-defined, :data:`AUTHORITATIVE_WAVEFORM`)."""
    return check.label in AUTHORITATIVE_WAVEFORM and check.verdicts.get("waveform") is not None


def digitization_panel(c: Canvas, report: Report, x: float, top: float, w: float) -> float:
    c.setFont("Helvetica-Bold", 8.5)
    c.drawString(x * mm, (top - 3) * mm, "Digitization")
    d = report.digitization
    if d is None:
        text = "not applicable: " + (report.notes[0] if report.notes else "no image")
    else:
        conf = ", ".join(f"{k} {v:.2f}" for k, v in d.lead_confidence.items())
        text = (
            f"layout {escape(str(d.layout))}; {d.px_per_mm[0]:.2f} × {d.px_per_mm[1]:.2f} px/mm "
            f"({escape(d.calibration_source)}); {d.speed_mm_s:g} mm/s, {d.gain_mm_mv:g} mm/mV; "
            f"quality {d.quality:.2f}.<br/>Lead confidence: {escape(conf)}."
        )
        if d.warnings:
            text += "<br/><b>Warnings:</b> " + escape("; ".join(d.warnings))
        if d.notes:
            text += "<br/>Notes: " + escape("; ".join(d.notes))
    para = Paragraph(text, SMALL)
    _, h = para.wrapOn(c, w * mm, 40 * mm)
    para.drawOn(c, x * mm, (top - 5) * mm - h)
    return top - 5 - h / mm


def images(c: Canvas, items: list[tuple[np.ndarray, str]], x: float, y: float, w: float, h: float) -> None:
    """Pictures side by side in a box of ``w`` × ``h`` mm at (``x``, ``y``), each with its title above."""
    if not items:
        return
    gap = 6
    each = (w - gap * (len(items) - 1)) / len(items)
    for i, (array, title) in enumerate(items):
        pil = Image.fromarray(np.asarray(array, dtype=np.uint8))
        pil.thumbnail((1600, 1600))
        buffer = BytesIO()
        pil.convert("RGB").save(buffer, format="JPEG", quality=82)
        buffer.seek(0)
        reader = ImageReader(buffer)
        iw, ih = pil.size
        scale = min(each / iw, (h - 4) / ih)
        xi = x + i * (each + gap)
        c.drawImage(reader, xi * mm, y * mm, iw * scale * mm, ih * scale * mm)
        c.setFont("Helvetica", 7)
        c.drawString(xi * mm, (y + ih * scale + 1) * mm, title)
