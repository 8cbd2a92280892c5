"""Print a record onto ECG paper: grid, calibration pulses, traces, lead labels, header and footer.

Traces are drawn with ``cv2.polylines`` (anti-aliased, 1/16 px sub-pixel positions via ``shift=4``) straight from
the samples: sample ``i`` of a panel is at ``x = x_start + (i / fs - t_start) * speed * px_per_mm`` and
``y = baseline - value_mV * gain * px_per_mm``. Nothing is clipped to its panel: large waves run into the
neighbouring rows as on real printouts. The trace mask holds ``lead index + 1`` (``LEADS`` order) under each
trace; where traces cross, the panel drawn later (later in the layout's row-major order) wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ecg.errors import EcgInputError
from ecg.record import LEADS, EcgRecord, finite_runs
from synth.beats import beat_windows, beats_in_window, detect_r_peaks
from synth.geometry import Warp
from synth.layout import PanelPlan, layout_def, plan_layout
from synth.paper import PAPER_SIZES_MM, grid_image, sheet_shape
from synth.spec import PULSE_HEIGHT_MV, PULSE_LEAD_IN_MM, PULSE_WIDTH_S, RenderSpec
from synth.text import TextItem, draw_text, font_code, footer_text, header_lines
from synth.truth import BeatTruth, PanelTruth, PulseTruth, Truth

_SHIFT = 4
_SUB = 1 << _SHIFT


@dataclass(frozen=True)
class Rendered:
    """A rendered image (uint8 BGR, OpenCV order), its trace mask (uint8 lead ids) and its ground truth."""

    image: np.ndarray
    mask: np.ndarray
    truth: Truth


def render(
    record: EcgRecord,
    spec: RenderSpec | None = None,
    rng: np.random.Generator | None = None,
    *,
    labels: dict[str, Any] | None = None,
    seed: int | None = None,
) -> Rendered:
    """Print ``record`` as specified; ``rng`` only drives header text. Raises `EcgInputError` on bad input.

    Parameters
    ----------
    record : EcgRecord
        Source signals (mV); it must cover the layout's leads over ``spec.start_s + spec.duration_s``.
    spec : RenderSpec
        Layout, speed, gain, paper, resolution... (defaults: 3×4+1, 25 mm/s, 10 mm/mV, 200 dpi, red grid).
    labels : dict, optional
        Diagnostic labels travelling with the image (e.g. PTB-XL ``scp_codes``).
    seed : int, optional
        Recorded in the ground truth (and used for ``rng`` when none is given).
    """
    if not isinstance(record, EcgRecord):
        raise EcgInputError(f"expected an EcgRecord, got {type(record).__name__}")
    spec = (spec or RenderSpec()).validate()
    rng = rng if rng is not None else np.random.default_rng(seed)
    windows = _check_record(record, spec)
    ppm = spec.px_per_mm
    height, width = sheet_shape(spec.paper_size, spec.dpi)
    image = grid_image(spec.paper, (height, width), ppm)
    mask = np.zeros((height, width), np.uint8)
    thickness = spec.trace_thickness_px
    trace_bgr = tuple(int(c) for c in spec.trace_color[::-1])
    text_bgr = tuple(int(c) for c in spec.text_color[::-1])
    font = font_code(spec.font)

    r_lead, r_peaks = detect_r_peaks(record)
    beats = beat_windows(r_peaks, record.fs)
    rate = 60.0 * record.fs / float(np.median(np.diff(r_peaks))) if len(r_peaks) >= 2 else None
    texts = _draw_header_footer(image, spec, rng, rate, font, text_bgr, (height, width))

    rows = plan_layout(
        spec.layout,
        speed_mm_s=spec.speed_mm_s,
        x_start_mm=spec.trace_x_start_mm,
        top_mm=spec.top_mm,
        bottom_mm=PAPER_SIZES_MM[spec.paper_size][1] - spec.bottom_mm,
        strip_mm=spec.strip_mm,
        start_s=spec.start_s,
        baseline_fraction=spec.baseline_fraction,
    )
    pulses = []
    panels: list[PanelTruth] = []
    beat_truths: list[BeatTruth] = []
    all_points, all_panel, all_sample = [], [], []
    for row in rows:
        if spec.pulses:
            pulses.append(_draw_pulse(image, spec, row.index, row.baseline_mm * ppm, trace_bgr, thickness))
        for plan in row.panels:
            index = len(panels)
            i0, i1 = _sample_range(plan.t_start_s, plan.t_stop_s, record.fs, record.n_samples)
            values = record.signals[LEADS.index(plan.lead), i0:i1]
            samples = np.arange(i0, i1)
            finite = np.isfinite(values)
            x = plan.x_start_mm * ppm + (samples / record.fs - plan.t_start_s) * spec.speed_mm_s * ppm
            y = plan.baseline_mm * ppm - values.astype(np.float64) * spec.gain_mm_mv * ppm
            points = np.stack([x, y], axis=1)
            lead_id = LEADS.index(plan.lead) + 1
            for start, stop in finite_runs(values):
                fixed = np.round(points[start:stop] * _SUB).astype(np.int32)
                cv2.polylines(image, [fixed], False, trace_bgr, thickness, cv2.LINE_AA, _SHIFT)
                cv2.polylines(mask, [fixed], False, lead_id, thickness, cv2.LINE_8, _SHIFT)
            if spec.separators and plan.column > 0:
                _draw_separator(image, plan, ppm, trace_bgr, thickness)
            label = _draw_label(image, spec, plan, font, text_bgr) if spec.label_position != "none" else None
            panels.append(_panel_truth(index, plan, lead_id, i0, i1, ppm, label))
            all_points.append(points[finite])
            all_panel.append(np.full(int(finite.sum()), index, np.int16))
            all_sample.append(samples[finite].astype(np.int32))
            for beat in beats_in_window(beats, plan.t_start_s, plan.t_stop_s):
                b0, b1 = _sample_range(beat.start_s, beat.stop_s, record.fs, record.n_samples)
                beat_truths.append(BeatTruth(index, plan.lead, beat.r_peak_s, beat.start_s, beat.stop_s, b0, b1))

    truth = Truth(
        spec=spec,
        plotted=_plotted_record(record, windows),
        panels=tuple(panels),
        pulses=tuple(pulses),
        beats=tuple(beat_truths),
        texts=tuple(texts),
        points=np.concatenate(all_points) if all_points else np.zeros((0, 2)),
        point_panel=np.concatenate(all_panel) if all_panel else np.zeros(0, np.int16),
        point_sample=np.concatenate(all_sample) if all_sample else np.zeros(0, np.int32),
        warp=Warp(render_size=(width, height)),
        r_peak_lead=r_lead,
        labels=dict(labels if labels is not None else record_labels(record)),
        seed=seed,
    )
    return Rendered(image, mask, truth)


def record_labels(record: EcgRecord) -> dict[str, Any]:
    """Labels carried by a record's ``meta``: ``scp_codes`` (dict, or a WFDB header comment) and ``labels``."""
    import ast

    out: dict[str, Any] = {}
    meta = record.meta or {}
    if isinstance(meta.get("labels"), dict):
        out.update(meta["labels"])
    if isinstance(meta.get("scp_codes"), dict):
        out["scp_codes"] = dict(meta["scp_codes"])
    for comment in meta.get("comments", []) or []:
        key, _, value = str(comment).partition(":")
        if key.strip() == "scp_codes" and "scp_codes" not in out:
            try:
                parsed = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                continue
            if isinstance(parsed, dict):
                out["scp_codes"] = {str(k): float(v) for k, v in parsed.items()}
    return out


# --- checks --------------------------------------------------------------------------------------------------
def _sample_range(t_start: float, t_stop: float, fs: float, n: int) -> tuple[int, int]:
    """Samples with times in ``[t_start, t_stop)``."""
    return min(n, math.ceil(t_start * fs - 1e-6)), min(n, math.ceil(t_stop * fs - 1e-6))


def _check_record(record: EcgRecord, spec: RenderSpec) -> dict[str, list[tuple[int, int]]]:
    """Sample windows per plotted lead; raise `EcgInputError` if the record is too short or lacks leads."""
    end_s = spec.start_s + spec.duration_s
    needed = math.ceil(end_s * record.fs - 1e-6)
    if record.n_samples < needed:
        raise EcgInputError(
            f"record lasts {record.duration_s:.2f} s but layout {spec.layout} at {spec.speed_mm_s:g} mm/s "
            f"plots {spec.start_s:g}–{end_s:g} s ({needed} samples at {record.fs:g} Hz)"
        )
    layout = layout_def(spec.layout)
    duration = spec.duration_s
    windows: dict[str, list[tuple[int, int]]] = {lead: [] for lead in layout.leads}
    rows = [(r, False) for r in layout.grid] + [((lead,), True) for lead in layout.rhythm]
    for leads, _ in rows:
        span = duration / len(leads)
        for col, lead in enumerate(leads):
            t0 = spec.start_s + col * span
            windows[lead].append(_sample_range(t0, t0 + span, record.fs, record.n_samples))
    missing = [
        lead
        for lead, spans in windows.items()
        if not any(np.isfinite(record.signals[LEADS.index(lead), a:b]).any() for a, b in spans)
    ]
    if missing:
        present = ", ".join(record.present_leads) or "none"
        raise EcgInputError(
            f"layout {spec.layout} plots lead(s) {', '.join(missing)} but the record has no samples there "
            f"(leads present: {present})"
        )
    return windows


def _plotted_record(record: EcgRecord, windows: dict[str, list[tuple[int, int]]]) -> EcgRecord:
    signals = np.full_like(record.signals, np.nan)
    for lead, spans in windows.items():
        i = LEADS.index(lead)
        for a, b in spans:
            signals[i, a:b] = record.signals[i, a:b]
    meta = {k: v for k, v in record.meta.items() if k != "comments"}
    return EcgRecord(signals, record.fs, {**meta, "plotted": True})


# --- drawing pieces ------------------------------------------------------------------------------------------
def _draw_pulse(image, spec: RenderSpec, row: int, baseline_px: float, color, thickness: int) -> PulseTruth:
    ppm = spec.px_per_mm
    x0 = spec.margin_left_mm * ppm
    up = x0 + PULSE_LEAD_IN_MM * ppm
    down = up + PULSE_WIDTH_S * spec.speed_mm_s * ppm
    end = spec.trace_x_start_mm * ppm
    top = baseline_px - PULSE_HEIGHT_MV * spec.gain_mm_mv * ppm
    poly = ((x0, baseline_px), (up, baseline_px), (up, top), (down, top), (down, baseline_px), (end, baseline_px))
    fixed = np.round(np.array(poly) * _SUB).astype(np.int32)
    cv2.polylines(image, [fixed], False, color, thickness, cv2.LINE_AA, _SHIFT)
    pad = thickness / 2
    box = (up - pad, top - pad, down + pad, baseline_px + pad)
    return PulseTruth(row, box, poly, PULSE_HEIGHT_MV, PULSE_WIDTH_S)


def _draw_separator(image, plan: PanelPlan, ppm: float, color, thickness: int) -> None:
    x = plan.x_start_mm * ppm
    half = 2.0 * ppm
    y = plan.baseline_mm * ppm
    pts = np.round(np.array([[x, y - half], [x, y + half]]) * _SUB).astype(np.int32)
    cv2.polylines(image, [pts], False, color, thickness + 1, cv2.LINE_AA, _SHIFT)


def _draw_label(image, spec: RenderSpec, plan: PanelPlan, font: int, color) -> TextItem:
    ppm = spec.px_per_mm
    height = spec.label_height_mm * ppm
    x = (plan.x_start_mm + (0.6 if plan.column == 0 else 1.2)) * ppm
    if spec.label_position == "below":
        y = (plan.baseline_mm + spec.label_offset_mm) * ppm + height
    else:
        y = (plan.baseline_mm - spec.label_offset_mm) * ppm
    box = draw_text(image, plan.lead, (x, y), font=font, height_px=height, color_bgr=color)
    return TextItem(plan.lead, "label", box)


def _panel_truth(index: int, plan: PanelPlan, lead_id: int, i0: int, i1: int, ppm: float, label) -> PanelTruth:
    box = (plan.x_start_mm * ppm, plan.top_mm * ppm, plan.x_stop_mm * ppm, plan.bottom_mm * ppm)
    return PanelTruth(
        index=index,
        lead=plan.lead,
        lead_id=lead_id,
        row=plan.row,
        column=plan.column,
        rhythm=plan.rhythm,
        t_start_s=plan.t_start_s,
        t_stop_s=plan.t_stop_s,
        sample_start=i0,
        sample_stop=i1,
        x_start_px=plan.x_start_mm * ppm,
        baseline_px=plan.baseline_mm * ppm,
        box=box,
        label=label,
    )


def _draw_header_footer(image, spec: RenderSpec, rng, rate, font: int, color, shape) -> list[TextItem]:
    ppm = spec.px_per_mm
    texts: list[TextItem] = []
    if spec.header:
        height = float(rng.uniform(2.4, 3.6)) * ppm
        y = max(spec.paper.grid_margin_mm, 4.0) * ppm + height + ppm
        x = spec.margin_left_mm * ppm
        for line in header_lines(rng, rate):
            if y > (spec.top_mm - 2.0) * ppm:
                break
            texts.append(TextItem(line, "header", draw_text(image, line, (x, y), font=font, height_px=height,
                                                             color_bgr=color)))
            y += 1.7 * height
    if spec.footer:
        height = spec.label_height_mm * ppm
        line = footer_text(spec.speed_mm_s, spec.gain_mm_mv, rng)
        x = (spec.margin_left_mm + float(rng.uniform(10, 60))) * ppm
        y = shape[0] - max(spec.bottom_mm * 0.35, 3.0) * ppm
        texts.append(TextItem(line, "footer", draw_text(image, line, (x, y), font=font, height_px=height,
                                                         color_bgr=color)))
    return texts
