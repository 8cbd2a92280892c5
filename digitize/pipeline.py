"""Image → 12-lead `EcgRecord`: the whole digitizer, with its calibration, layout, confidence and overlay.

load → rectify (rotation, perspective) → ink layers (grid colour removed) → trace probability → grid calibration
→ rows and lead panels → calibration pulses (gain) → Viterbi path per row → px → mV and s at 500 Hz → overlay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from digitize.calibrate import Calibration, apply_pulses, calibrate
from digitize.layout import Layout, detect_layout
from digitize.load import ImageSource, NoEcgFoundError, load_image
from digitize.overlay import draw_overlay
from digitize.preprocess import RectifyMethod, ink_layers, rectify
from digitize.reconstruct import HIGHPASS_HZ, reconstruct
from digitize.trace import RowTrace, TraceMethod, line_width_px, refine_path, trace_probability, viterbi_rows
from ecg.record import DEFAULT_FS, EcgRecord

DigitizeMethod = Literal["classical"]


@dataclass(frozen=True)
class Digitization:
    """Result of digitizing one image.

    Attributes
    ----------
    record : EcgRecord
        12 leads in mV at ``fs``; NaN outside each lead's printed window.
    calibration : Calibration
        Pixel scale, speed, gain and how they were found.
    layout : Layout
        Template, rows, time origin and lead panels (rectified-image pixels).
    lead_confidence : dict of str to float
        Per printed lead, 0–1.
    lead_reasons : dict of str to tuple of str
        Why each lead's confidence is not 1.
    quality : float
        Overall reconstruction-quality estimate, 0–1.
    quality_notes : tuple of str
        Geometry, calibration and layout remarks behind ``quality``.
    overlay : ndarray (H, W, 3) uint8
        The input with the detected grid, traces and lead names drawn on it.
    traces : tuple of RowTrace
        Extracted row traces (rectified pixels).
    timings_s : dict of str to float
        Seconds spent per stage.
    """

    record: EcgRecord
    calibration: Calibration
    layout: Layout
    lead_confidence: dict[str, float]
    lead_reasons: dict[str, tuple[str, ...]]
    quality: float
    quality_notes: tuple[str, ...]
    overlay: np.ndarray
    traces: tuple[RowTrace, ...] = field(repr=False)
    timings_s: dict[str, float] = field(default_factory=dict)


def digitize_image(
    source: ImageSource,
    *,
    method: DigitizeMethod = "classical",
    rectify_method: RectifyMethod = "grid-lines",
    template: str | None = None,
    fs: float = DEFAULT_FS,
    highpass_hz: float | None = HIGHPASS_HZ,
    page: int = 0,
) -> Digitization:
    """Digitize a photo, scan or export of a paper ECG.

    Parameters
    ----------
    source : path, bytes or ndarray
        The image (PNG, JPEG, TIFF, PDF page) or an RGB array.
    method : {"classical"}
        Trace segmentation: ``"classical"`` = ink darkness with the grid colour divided out.
    rectify_method : {"grid-lines", "none"}
        Rotation/perspective correction (see :func:`digitize.preprocess.rectify`).
    template : str, optional
        Force a layout template (see :data:`digitize.layout.TEMPLATES`); chosen automatically by default.
    fs : float
        Output sampling rate (Hz).
    highpass_hz : float or None
        Baseline-wander high-pass cut-off (Hz); None keeps the drawn baseline.
    page : int
        PDF page (0-based).

    Raises
    ------
    EcgInputError
        For unreadable or oversize images and images with no ECG.
    """
    if method not in ("classical",):
        raise ValueError(f"unknown digitize method {method!r}; valid methods: classical")
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    image = load_image(source, page=page)
    lap("load")
    rectified = rectify(image, method=rectify_method)
    lap("rectify")
    layers = ink_layers(rectified.image, paper_mask=rectified.paper_mask)
    prob = trace_probability(layers, method=_trace_method(method))
    lap("segment")
    calibration = calibrate(layers.lines, paper_mask=rectified.paper_mask)
    layout = detect_layout(prob, calibration, template=template)
    calibration = apply_pulses(calibration, list(layout.pulses))
    if calibration.source == "pulse":  # the scale changed: find the panels again with it
        layout = detect_layout(prob, calibration, template=template)
    lap("calibrate+layout")
    traces = extract_traces(prob, layout, calibration)
    lap("trace")
    record = reconstruct(
        traces,
        layout,
        calibration,
        fs=fs,
        highpass_hz=highpass_hz,
        meta={"source_file": str(source) if isinstance(source, (str,)) else "image"},
    )
    confidence, reasons = lead_confidences(traces, layout, calibration)
    quality, quality_notes = _quality(confidence, calibration, layout, rectified.method, rectified.rotation_deg)
    lap("reconstruct")
    overlay = draw_overlay(image, rectified.homography, traces, layout, calibration)
    lap("overlay")
    timings["total"] = sum(timings.values())
    return Digitization(
        record, calibration, layout, confidence, reasons, quality, quality_notes, overlay, tuple(traces), timings
    )


def _trace_method(method: str) -> TraceMethod:
    return "classical"


def extract_traces(prob: np.ndarray, layout: Layout, calibration: Calibration) -> list[RowTrace]:
    """One sub-pixel trace per layout row over the record's time span (calibration pulses masked out)."""
    margin = int(0.05 * calibration.px_per_s)
    x0 = max(0, int(np.floor(layout.x_origin)) - margin)
    x1 = min(prob.shape[1], int(np.ceil(layout.x_end)) + margin)
    if x1 - x0 < 8:
        raise NoEcgFoundError("no ECG found: the trace rows are too short to read")
    blocked = [(int(p.x_start) - 3, int(np.ceil(p.x_end)) + 3) if p is not None else None for p in layout.pulses]
    paths = viterbi_rows(prob, layout.baselines, layout.row_spacing_px, (x0, x1), blocked=blocked)
    width = line_width_px(prob, paths[0], x0)
    return [refine_path(prob, path, x0, line_px=width, reach_px=layout.row_spacing_px) for path in paths]


def lead_confidences(
    traces: list[RowTrace], layout: Layout, calibration: Calibration
) -> tuple[dict[str, float], dict[str, tuple[str, ...]]]:
    """Per-lead confidence (0–1) from how much of the path ran on ink, how strong it was, and the calibration."""
    scale_factor = {"grid": 1.0, "pulse": 0.8, "assumed": 0.4}.get(calibration.source, 0.5)
    confidence: dict[str, float] = {}
    reasons: dict[str, tuple[str, ...]] = {}
    for panel in layout.panels:
        trace = traces[panel.row]
        inside = (trace.x >= panel.x_start) & (trace.x < panel.x_end)
        why: list[str] = []
        if not inside.any():
            confidence[panel.lead], reasons[panel.lead] = 0.0, ("panel outside the traced area",)
            continue
        on_ink = float(trace.on_ink[inside].mean())
        strength = float(trace.strength[inside].mean())
        if on_ink < 0.95:
            why.append(f"trace bridged gaps over {100 * (1 - on_ink):.0f} % of the panel")
        if strength < 0.6:
            why.append(f"faint trace (mean probability {strength:.2f})")
        if calibration.source == "pulse":
            why.append("no grid: scale from the calibration pulse")
        elif calibration.source == "assumed":
            why.append("no grid and no calibration pulse: scale assumed")
        if calibration.pulse_mm is None and calibration.source == "grid":
            why.append("gain assumed (no calibration pulse found)")
        score = on_ink * (0.6 + 0.4 * min(1.0, strength / 0.8)) * scale_factor
        if calibration.pulse_mm is None and calibration.source == "grid":
            score *= 0.9
        if panel.lead in confidence:  # a lead shown twice (rhythm strip): keep the better one
            if score <= confidence[panel.lead]:
                continue
        confidence[panel.lead] = round(float(np.clip(score, 0.0, 1.0)), 3)
        reasons[panel.lead] = tuple(why)
    return confidence, reasons


def _quality(
    confidence: dict[str, float], calibration: Calibration, layout: Layout, geometry: str, rotation_deg: float
) -> tuple[float, tuple[str, ...]]:
    notes = [f"layout {layout.template}", f"geometry: {geometry}, rotation {rotation_deg:+.1f}°"]
    notes.extend(calibration.notes)
    notes.extend(layout.notes)
    quality = float(np.mean(list(confidence.values()))) if confidence else 0.0
    if calibration.source == "grid":
        quality *= 0.7 + 0.3 * min(1.0, calibration.grid_strength / 0.3)
    return round(quality, 3), tuple(notes)
