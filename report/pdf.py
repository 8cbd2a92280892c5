"""The PDF report (reportlab), laid out like a clinical 12-lead printout.

Page 1: header (patient fields, date, status), measurement block, statements with their evidence, the reconstructed
ECG on a true 1 mm / 5 mm grid at 25 mm/s and 10 mm/mV (3×4 + lead II rhythm strip, `report.ecg_plot`).
Page 2 (:mod:`report.pdf_panels`): the classifier panel (top classes, fusion verdict, saliency), the cross-check
table, the digitization summary, and the input image beside the digitization overlay. Every page carries a footer
with speed/gain, filters, software and model versions and the disclaimer. Landscape A4 or US Letter.
All user-supplied text goes through :func:`xml.sax.saxutils.escape` before reaching a Paragraph (reportlab's
paragraph markup would otherwise be injectable). The pages read the report's typed results, not its JSON form.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from report.ecg_plot import PrintSettings, draw_ecg
from report.model import CONFIRMATION, Report
from report.pdf_panels import BODY, classifier_panel, crosscheck_table, digitization_panel, images, yes_no

if TYPE_CHECKING:  # types only: writing a PDF loads no pipeline and no onnxruntime
    from analyze import Measurements
    from report.pipeline import PipelineResult

PAPER = {"a4": landscape(A4), "letter": landscape(letter)}
MARGIN_MM = 9.0
DISCLAIMER = (
    "Automated screening output, not a diagnosis. Digitized from an image; measurements and statements are "
    "unconfirmed and require physician review."
)
STATUS_COLORS = {
    "normal": colors.Color(0.85, 0.95, 0.86),
    "abnormal — review": colors.Color(0.99, 0.86, 0.82),
    "insufficient quality": colors.Color(0.9, 0.9, 0.9),
}


def write_pdf(result: PipelineResult, path: str | Path, *, paper: Literal["a4", "letter"] = "a4") -> Path:
    """Write the two-page report PDF for ``result`` and return its path."""
    if paper not in PAPER:
        raise ValueError(f"unknown paper {paper!r}; valid: {', '.join(PAPER)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    report = result.report
    c = Canvas(str(path), pagesize=PAPER[paper], pageCompression=1)
    c.setTitle("ECG screening report")
    c.setAuthor("ecgscreen " + report.software_version)
    c.setSubject(report.status.text)
    _page_one(c, result, PAPER[paper])
    _footer(c, report, PAPER[paper], 1)
    c.showPage()
    _page_two(c, result, PAPER[paper])
    _footer(c, report, PAPER[paper], 2)
    c.showPage()
    c.save()
    return path


# --- page 1 --------------------------------------------------------------------------------------------------
def _page_one(c: Canvas, result: PipelineResult, size: tuple[float, float]) -> None:
    report = result.report
    width_mm, height_mm = size[0] / mm, size[1] / mm
    top = height_mm - MARGIN_MM
    _header(c, report, top, width_mm)
    block_top = top - 17
    _measurement_block(c, report.measurements, MARGIN_MM, block_top)
    _statements(c, report, MARGIN_MM + 72, block_top, width_mm - 2 * MARGIN_MM - 72)
    if result.record is not None:
        settings = PrintSettings(row_pitch_mm=24.0)
        draw_ecg(c, result.record, MARGIN_MM, MARGIN_MM + 9, settings)
        c.setFont("Helvetica", 6.5)
        c.drawString(
            MARGIN_MM * mm,
            (MARGIN_MM + 9 + settings.height_mm() + 1.5) * mm,
            "Reconstructed ECG — 25 mm/s, 10 mm/mV, 1 mm / 5 mm grid"
            + (" (digitized from the image)" if report.input.kind == "image" else " (signal record)"),
        )


def _header(c: Canvas, report: Report, top: float, width_mm: float) -> None:
    c.setFont("Helvetica-Bold", 12)
    c.drawString(MARGIN_MM * mm, (top - 5) * mm, "12-lead ECG — screening report")
    p = report.patient
    fields = [
        ("ID", p.id or "—"),
        ("Name", p.name or "—"),
        ("Age", str(p.age) if p.age is not None else "—"),
        ("Sex", p.sex or "—"),
        ("Date", report.created_utc.replace("T", " ").replace("+00:00", " UTC")),
        ("Input", report.input.file_name),
    ]
    text = "   ".join(f"<b>{escape(k)}:</b> {escape(str(v))}" for k, v in fields)
    para = Paragraph(text, BODY)
    para.wrapOn(c, (width_mm - 2 * MARGIN_MM - 95) * mm, 12 * mm)
    para.drawOn(c, MARGIN_MM * mm, (top - 13) * mm)
    # status banner, right
    box_w, box_h = 92, 13
    x = width_mm - MARGIN_MM - box_w
    c.setFillColor(STATUS_COLORS.get(report.status.screening, colors.white))
    c.setStrokeColor(colors.black)
    c.rect(x * mm, (top - box_h) * mm, box_w * mm, box_h * mm, fill=1, stroke=1)
    c.setFillColor(colors.black)
    c.setFont("Helvetica-Bold", 10)
    c.drawString((x + 3) * mm, (top - 5.5) * mm, report.status.text)
    c.setFont("Helvetica", 7.5)
    c.drawString((x + 3) * mm, (top - 10.5) * mm, CONFIRMATION)
    line = review_line(report)
    if line:
        c.setFillColor(colors.HexColor("#8a1c00"))
        _draw_with_arrows(c, MARGIN_MM * mm, (top - 16) * mm, line[:230], "Helvetica-Bold", 7)
        c.setFillColor(colors.black)


def _draw_with_arrows(c: Canvas, x: float, y: float, text: str, font: str, size: float) -> None:
    """``text`` in ``font``, its arrows (↔ →, not in the standard Helvetica encoding) in the Symbol font."""
    out = c.beginText(x, y)
    for piece in re.split("([↔→])", text):
        if piece:
            out.setFont("Symbol" if piece in "↔→" else font, size)
            out.textOut(piece)
    c.drawText(out)


def review_line(report: Report) -> str | None:
    """Issue 19: "version 2 — corrected by the reader: V1 ↔ V2 (ann, 2026-…)" / the values set by the user."""
    review = report.review
    if not review:
        return None
    parts = []
    fix = review.get("corrections")
    if fix:
        when = str(fix.get("at", ""))[:16].replace("T", " ")
        parts.append(f"Version {review.get('version')} — corrected by the reader: {'; '.join(fix['changed'])} "
                     f"(by {fix.get('by')}, {when} UTC)" + (f' — "{fix["note"]}"' if fix.get("note") else ""))
    user = review.get("user_set") or {}
    if user:
        shown = [f"{k.replace('_mm_s', ' mm/s').replace('_mm_mv', ' mm/mV').replace('_', ' ')} "
                 f"{', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in user.items() if k != "rename"]
        if user.get("rename"):
            shown.append("renamed " + ", ".join(f"{a}→{b}" for a, b in user["rename"].items()))
        parts.append("set by the user: " + "; ".join(shown))
    return " · ".join(parts)


def _fmt(value: float | None, unit: str = "") -> str:
    """A measurement in whole units, rounded first to 0.1 as in the JSON (``Measurements.to_dict``), so the PDF
    prints what the JSON says; "—" when absent or not finite."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{round(float(value), 1):.0f}" + (f" {unit}" if unit else "")


def _measurement_block(c: Canvas, m: Measurements | None, x_mm: float, top_mm: float) -> None:
    c.setFont("Helvetica-Bold", 8.5)
    c.drawString(x_mm * mm, (top_mm - 3) * mm, "Measurements")
    if m is None:
        c.setFont("Helvetica", 7.5)
        c.drawString(x_mm * mm, (top_mm - 8) * mm, "not measurable (see statements)")
        return
    qtc = f"{_fmt(m.qt_ms, 'ms')} / {_fmt(m.qtc_fridericia_ms, 'ms')}"
    axes = "/".join(_fmt(v) for v in (m.p_axis_deg, m.qrs_axis_deg, m.t_axis_deg))
    rows = [
        ("Rate", _fmt(m.heart_rate_bpm, "bpm")),
        ("RR (mean ± SD)", f"{_fmt(m.rr_mean_ms)} ± {_fmt(m.rr_sdnn_ms, 'ms')}"),
        ("PR", _fmt(m.pr_ms, "ms")),
        ("QRS", _fmt(m.qrs_ms, "ms")),
        ("QT / QTc (Fridericia)", qtc),  # the QTc the rules use; Bazett over-corrects at fast rates
        ("QTc (Bazett)", _fmt(m.qtc_bazett_ms, "ms")),
        ("P-QRS-T axes", f"{axes} °"),
        ("Beats measured", str(m.beat_count)),
    ]
    c.setFont("Helvetica", 7.5)
    for i, (label, value) in enumerate(rows):
        y = (top_mm - 8 - i * 4) * mm
        c.drawString(x_mm * mm, y, label)
        c.drawRightString((x_mm + 62) * mm, y, value)


def _statements(c: Canvas, report: Report, x_mm: float, top_mm: float, width_mm: float) -> None:
    c.setFont("Helvetica-Bold", 8.5)
    c.drawString(x_mm * mm, (top_mm - 3) * mm, "Statements (waveform rules) and cross-check")
    lines: list[str] = []
    for f in report.findings:
        evidence = ", ".join(f"{escape(str(k))} {escape(_short(v))}" for k, v in f.evidence.items())
        lines.append(f"<b>{escape(f.statement)}</b>" + (f" — {evidence}" if evidence else ""))
    if not report.findings:
        reason = report.errors.get("analyze", "no statement")
        lines.append(f"<b>No waveform statement</b> — {escape(reason)}")
    for check in report.crosscheck.disagreements:
        said = ", ".join(f"{k}: {yes_no(v)}" for k, v in check.verdicts.items() if v is not None)
        lines.append(f"<font color='#b00000'><b>Review:</b> sources disagree on {escape(check.label)} "
                     f"({escape(said)}). {escape(check.note)}</font>")
    for reason in report.status.reasons:
        lines.append(f"<i>{escape(reason)}</i>")
    y = top_mm - 6
    for html in lines[:14]:
        para = Paragraph(html, BODY)
        _, h = para.wrapOn(c, width_mm * mm, 30 * mm)
        y -= h / mm
        para.drawOn(c, x_mm * mm, y * mm)
    if len(lines) > 14:
        c.setFont("Helvetica-Oblique", 7)
        c.drawString(x_mm * mm, (y - 4) * mm, f"… {len(lines) - 14} more in the JSON report")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


# --- page 2 --------------------------------------------------------------------------------------------------
def _page_two(c: Canvas, result: PipelineResult, size: tuple[float, float]) -> None:
    report = result.report
    width_mm, height_mm = size[0] / mm, size[1] / mm
    top = height_mm - MARGIN_MM
    c.setFont("Helvetica-Bold", 11)
    c.drawString(MARGIN_MM * mm, (top - 4) * mm, "Classifiers, cross-check and digitization")
    col_w = (width_mm - 2 * MARGIN_MM - 8) / 2
    classifier_panel(c, report, result.saliency, MARGIN_MM, top - 10, col_w)
    below_table = crosscheck_table(c, report, MARGIN_MM + col_w + 8, top - 10, col_w)
    digitization_panel(c, report, MARGIN_MM + col_w + 8, min(top - 66, below_table - 3), col_w)
    shown = [(result.image, "Input image" if report.input.kind == "image" else "Rendering classified"),
             (result.overlay, "Digitization overlay")]
    images(c, [(img, title) for img, title in shown if img is not None], MARGIN_MM, MARGIN_MM + 8,
           width_mm - 2 * MARGIN_MM, 88)


# --- footer --------------------------------------------------------------------------------------------------
def _footer(c: Canvas, report: Report, size: tuple[float, float], page: int) -> None:
    width_mm = size[0] / mm
    versions = ""
    if report.classifiers:
        versions = "; models " + ", ".join(f"{k} {v}" for k, v in report.classifiers.model_versions.items())
    d = report.digitization
    user = (report.review or {}).get("user_set") or {}
    how = "set by the user" if ("speed_mm_s" in user or "gain_mm_mv" in user) else "read"
    speed_gain = f"{d.speed_mm_s:g} mm/s, {d.gain_mm_mv:g} mm/mV ({how})" if d else "25 mm/s, 10 mm/mV"
    line1 = (
        f"Printout {speed_gain}; filters: analysis 0.5 Hz high-pass + 50 Hz power-line smoothing (NeuroKit2 "
        "ecg_clean), reconstruction without "
        f"high-pass; ecgscreen {report.software_version}{versions}; report {report.id}; page {page}/2"
    )
    c.setFont("Helvetica", 6)
    c.setFillColor(colors.black)
    c.drawString(MARGIN_MM * mm, (MARGIN_MM + 2) * mm, line1[:260])
    c.setFont("Helvetica-Oblique", 6)
    c.drawString(MARGIN_MM * mm, MARGIN_MM * mm, DISCLAIMER)
    c.drawRightString((width_mm - MARGIN_MM) * mm, MARGIN_MM * mm, "unconfirmed: requires physician review")
