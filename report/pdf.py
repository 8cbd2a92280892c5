"""The PDF report (reportlab), laid out like a clinical 12-lead printout.

Page 1: header (patient fields, date, status), measurement block, statements with their evidence, the reconstructed
ECG on a true 1 mm / 5 mm grid at 25 mm/s and 10 mm/mV (3×4 + lead II rhythm strip, `report.ecg_plot`).
Page 2: the classifier panel (top classes, fusion verdict, saliency), the cross-check table, the digitization
summary, and the input image beside the digitization overlay. Every page carries a footer with speed/gain,
filters, software and model versions and the disclaimer. Landscape A4 or US Letter.
All user-supplied text goes through :func:`xml.sax.saxutils.escape` before reaching a Paragraph (reportlab's
paragraph markup would otherwise be injectable).
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from classify.crosscheck import AUTHORITATIVE_WAVEFORM
from report.ecg_plot import PrintSettings, draw_ecg
from report.model import CONFIRMATION, Report

if TYPE_CHECKING:  # a type only: writing a PDF loads no pipeline and no onnxruntime
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
BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=7.5, leading=9)
SMALL = ParagraphStyle("small", fontName="Helvetica", fontSize=6.5, leading=8)
HEAD = ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=8.5, leading=10)


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
            + (" (digitized from the image)" if report.input.get("kind") == "image" else " (signal record)"),
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
        ("Input", report.input.get("file_name", "")),
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


def _fmt(value: Any, unit: str) -> str:
    return "—" if value is None else f"{value:.0f} {unit}"


def _measurement_block(c: Canvas, m: dict[str, Any] | None, x_mm: float, top_mm: float) -> None:
    c.setFont("Helvetica-Bold", 8.5)
    c.drawString(x_mm * mm, (top_mm - 3) * mm, "Measurements")
    if m is None:
        c.setFont("Helvetica", 7.5)
        c.drawString(x_mm * mm, (top_mm - 8) * mm, "not measurable (see statements)")
        return
    qtc = f"{_fmt(m.get('qt_ms'), 'ms')} / {_fmt(m.get('qtc_fridericia_ms'), 'ms')}"
    axes = "/".join("—" if m.get(k) is None else f"{m[k]:.0f}" for k in ("p_axis_deg", "qrs_axis_deg", "t_axis_deg"))
    rows = [
        ("Rate", _fmt(m.get("heart_rate_bpm"), "bpm")),
        ("RR (mean ± SD)", f"{_fmt(m.get('rr_mean_ms'), '')}± {_fmt(m.get('rr_sdnn_ms'), 'ms')}"),
        ("PR", _fmt(m.get("pr_ms"), "ms")),
        ("QRS", _fmt(m.get("qrs_ms"), "ms")),
        ("QT / QTc (Fridericia)", qtc),  # the QTc the rules use; Bazett over-corrects at fast rates
        ("QTc (Bazett)", _fmt(m.get("qtc_bazett_ms"), "ms")),
        ("P-QRS-T axes", f"{axes} °"),
        ("Beats measured", str(m.get("beat_count", "—"))),
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
        evidence = ", ".join(f"{escape(str(k))} {escape(_short(v))}" for k, v in f.get("evidence", {}).items())
        lines.append(f"<b>{escape(f['statement'])}</b>" + (f" — {evidence}" if evidence else ""))
    if not report.findings:
        reason = report.errors.get("analyze", "no statement")
        lines.append(f"<b>No waveform statement</b> — {escape(reason)}")
    for check in report.crosscheck.get("labels", []):
        if check["needs_review"]:
            said = ", ".join(f"{k}: {_yes_no(v)}" for k, v in check["verdicts"].items() if v is not None)
            lines.append(f"<font color='#b00000'><b>Review:</b> sources disagree on {escape(check['label'])} "
                         f"({escape(said)}). {escape(check['note'])}</font>")
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


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "—"}[value]


# --- page 2 --------------------------------------------------------------------------------------------------
def _page_two(c: Canvas, result: PipelineResult, size: tuple[float, float]) -> None:
    report = result.report
    width_mm, height_mm = size[0] / mm, size[1] / mm
    top = height_mm - MARGIN_MM
    c.setFont("Helvetica-Bold", 11)
    c.drawString(MARGIN_MM * mm, (top - 4) * mm, "Classifiers, cross-check and digitization")
    col_w = (width_mm - 2 * MARGIN_MM - 8) / 2
    _classifier_panel(c, report, result.saliency, MARGIN_MM, top - 10, col_w)
    below_table = _crosscheck_table(c, report, MARGIN_MM + col_w + 8, top - 10, col_w)
    _digitization_panel(c, report, MARGIN_MM + col_w + 8, min(top - 66, below_table - 3), col_w)
    images = [(result.image, "Input image" if report.input.get("kind") == "image" else "Rendering classified"),
              (result.overlay, "Digitization overlay")]
    _images(c, [(img, title) for img, title in images if img is not None], MARGIN_MM, MARGIN_MM + 8,
            width_mm - 2 * MARGIN_MM, 88)


def _classifier_panel(c: Canvas, report: Report, saliency: np.ndarray | None, x: float, top: float, w: float) -> float:
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
    if cls.get("tiled"):
        yy = _tiled_lines(c, cls["tiled"], x, top)
    fusion = cls.get("fusion")
    c.setFont("Helvetica", 7.5)
    if fusion:
        c.drawString(
            x * mm,
            yy * mm,
            f"Global/local fusion network: {fusion['label']} (p abnormal {fusion['abnormal_probability']:.2f}, "
            f"threshold {fusion['threshold']:.2f}; {len(fusion['beats'])} beats detected)",
        )
        yy -= 4
    yy = _waveform_and_screening_lines(c, report, x, yy)
    versions = ", ".join(f"{k} {v}" for k, v in cls.get("model_versions", {}).items())
    para = Paragraph(f"models: {escape(versions)}", SMALL)
    _, h = para.wrapOn(c, w * mm, 20 * mm)
    para.drawOn(c, x * mm, (yy - 2) * mm - h)
    yy -= 2 + h / mm
    if saliency is not None:
        _images(c, [(saliency, "Occlusion saliency (top decision) with beat boxes")], x, yy - 40, w, 38)
    return yy - 2


def _tiled_lines(c: Canvas, tiled: dict[str, Any], x: float, top: float) -> float:
    """The tiled network's top classes as bars; returns the y (mm) below them."""
    probs = sorted(tiled["probabilities"].items(), key=lambda kv: -kv[1])[:6]
    c.setFont("Helvetica", 7.5)
    validated = tiled.get("validated", list(tiled["probabilities"]))
    unvalidated = [name for name in tiled["probabilities"] if name not in validated]
    heading = "RGB-tiled ResNet (10 classes) — top classes"
    if unvalidated:
        heading += " (grey italic: not validated, not counted)"
    c.drawString(x * mm, (top - 8) * mm, heading + ":")
    for i, (name, p) in enumerate(probs):
        yy = top - 12.5 - i * 4
        fired = name in tiled["labels"] and name not in unvalidated
        c.setFont("Helvetica-Oblique" if name in unvalidated else "Helvetica-Bold" if fired else "Helvetica", 7.5)
        c.drawString((x + 2) * mm, yy * mm, name)
        c.setFillColor(colors.Color(0.75, 0.1, 0.1) if fired else colors.Color(0.6, 0.6, 0.6))
        c.rect((x + 16) * mm, yy * mm, max(0.3, 40 * p) * mm, 2.4 * mm, fill=1, stroke=0)
        c.setFillColor(colors.black)
        thr = tiled["thresholds"].get(name)
        c.drawString((x + 58) * mm, yy * mm, f"{p:.2f}" + (f" (threshold {thr:.2f})" if thr is not None else ""))
    return top - 12.5 - len(probs) * 4 - 3


def _waveform_and_screening_lines(c: Canvas, report: Report, x: float, yy: float) -> float:
    """The waveform-feature classifier's ABNORMAL probability and labels, and the screening model's combined
    probability with its operating point; returns the y (mm) below them."""
    wave = (report.classifiers or {}).get("waveform")
    c.setFont("Helvetica", 7.5)
    if wave:
        p = wave["probabilities"].get("ABNORMAL")
        counted = [name for name in wave["labels"] if name in wave.get("validated", []) and name != "ABNORMAL"]
        note = "" if "ABNORMAL" in wave.get("validated", []) else ", not validated"
        c.drawString(x * mm, yy * mm, f"Waveform-feature classifier: p abnormal {p:.2f} (threshold "
                     f"{wave['thresholds'].get('ABNORMAL', float('nan')):.2f}{note}); labels: "
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


def _crosscheck_table(c: Canvas, report: Report, x: float, top: float, w: float) -> float:
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
    for i, check in enumerate(report.crosscheck.get("labels", []), start=1):
        v = check["verdicts"]
        shown = {k: _yes_no(v[k]) + (" †" if k in check.get("excluded", {}) else "") for k in v}
        rows.append([check["label"], shown["waveform"], shown["tiled"], shown["fusion"],
                     shown.get("waveform_model", "—"), check["status"],
                     _yes_no(check["resolved"]) + (" *" if _authoritative(check) else "")])
        if check["needs_review"]:
            style.append(("BACKGROUND", (0, i), (-1, i), colors.Color(0.99, 0.86, 0.82)))
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


def _authoritative(check: dict[str, Any]) -> bool:
    """The waveform measurement decides this label (interval-defined, :data:`AUTHORITATIVE_WAVEFORM`)."""
    return check["label"] in AUTHORITATIVE_WAVEFORM and check["verdicts"].get("waveform") is not None


def _digitization_panel(c: Canvas, report: Report, x: float, top: float, w: float) -> float:
    c.setFont("Helvetica-Bold", 8.5)
    c.drawString(x * mm, (top - 3) * mm, "Digitization")
    d = report.digitization
    if d is None:
        text = "not applicable: " + (report.notes[0] if report.notes else "no image")
    else:
        conf = ", ".join(f"{k} {v:.2f}" for k, v in d["lead_confidence"].items())
        text = (
            f"layout {escape(str(d['layout']))}; {d['px_per_mm']['x']:.2f} × {d['px_per_mm']['y']:.2f} px/mm "
            f"({escape(d['calibration_source'])}); {d['speed_mm_s']:g} mm/s, {d['gain_mm_mv']:g} mm/mV; "
            f"quality {d['quality']:.2f}.<br/>Lead confidence: {escape(conf)}."
        )
        if d["warnings"]:
            text += "<br/><b>Warnings:</b> " + escape("; ".join(d["warnings"]))
        if d["notes"]:
            text += "<br/>Notes: " + escape("; ".join(d["notes"]))
    para = Paragraph(text, SMALL)
    _, h = para.wrapOn(c, w * mm, 40 * mm)
    para.drawOn(c, x * mm, (top - 5) * mm - h)
    return top - 5 - h / mm


def _images(c: Canvas, items: list[tuple[np.ndarray, str]], x: float, y: float, w: float, h: float) -> None:
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


# --- footer --------------------------------------------------------------------------------------------------
def _footer(c: Canvas, report: Report, size: tuple[float, float], page: int) -> None:
    width_mm = size[0] / mm
    versions = ""
    if report.classifiers:
        versions = "; models " + ", ".join(f"{k} {v}" for k, v in report.classifiers.get("model_versions", {}).items())
    d = report.digitization
    user = (report.review or {}).get("user_set") or {}
    how = "set by the user" if ("speed_mm_s" in user or "gain_mm_mv" in user) else "read"
    speed_gain = f"{d['speed_mm_s']:g} mm/s, {d['gain_mm_mv']:g} mm/mV ({how})" if d else "25 mm/s, 10 mm/mV"
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
