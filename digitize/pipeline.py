"""Image → 12-lead `EcgRecord`: the whole digitizer, with its calibration, layout, confidence and overlay.

load → quarter-turn orientation → rectify (rotation, perspective) → ink layers (grid colour removed) → grid
calibration (pulse or page-width fallback without a grid) → trace probability (classical ink map, or the U-Net) →
rows and lead panels → calibration pulses (gain, paper speed) → Viterbi path per row → 6×2 vs 3×4+3 and
rhythm-strip leads from the traces → px → mV and s at 500 Hz → overlay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

import cv2
import numpy as np

from digitize import evidence as _evidence
from digitize.assign import resolve_layout
from digitize.calibrate import Calibration, apply_pulses, calibrate
from digitize.candidates import layout_signals, settle_columns
from digitize.confidence import LeadEvidence, cap_by_quality, image_quality, lead_confidences
from digitize.consistency import precordial_fit, repeat_checks
from digitize.evidence import MIN_BEATS_IN_ROW, EcgEvidence, qrs_like_deflections
from digitize.hinted import apply_hinted_leads, apply_hinted_scale, digitization_meta
from digitize.hints import DigitizeHints
from digitize.identity import assign_leads
from digitize.keystone import straighten_keystone
from digitize.labels import LabelRead, read_labels
from digitize.layout import Layout, detect_layout, find_rows
from digitize.load import ImageSource, NoEcgFoundError, load_image
from digitize.orient import detect_orientation, upright
from digitize.overlay import draw_overlay
from digitize.physics import limb_check
from digitize.preprocess import InkLayers, RectifyMethod, ink_layers, rectify
from digitize.reconstruct import reconstruct
from digitize.trace import (
    ROW_STROKE_MIN_PX_PER_MM,
    RUN_LEVEL,
    RowTrace,
    line_width_px,
    refine_path,
    trace_probability,
    viterbi_rows,
    without_vertical_lines,
)
from ecg.record import DEFAULT_FS, LEADS, EcgRecord

DigitizeMethod = Literal["classical", "unet"]
DIGITIZE_METHODS: tuple[str, ...] = get_args(DigitizeMethod)

GATE_LEVEL = 0.5
"""U-Net probability above which an ink blob counts as trace (``method="unet"``)."""


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
    evidence : EcgEvidence
        Why the image was taken for an ECG (:mod:`digitize.evidence`).
    labels : tuple of LabelRead
        The printed lead labels found and read (:mod:`digitize.labels`).
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
    evidence: EcgEvidence | None = None
    labels: tuple[LabelRead, ...] = ()
    homography: np.ndarray | None = field(default=None, repr=False)
    """Input (upright) → rectified mapping; the overlay's pixels map to ``layout`` through it."""
    lead_evidence: dict[str, LeadEvidence] = field(default_factory=dict, repr=False)
    """What each lead's confidence is made of (:mod:`digitize.confidence`)."""


def digitize_image(
    source: ImageSource,
    *,
    method: DigitizeMethod = "classical",
    rectify_method: RectifyMethod = "grid-lines",
    template: str | None = None,
    fs: float = DEFAULT_FS,
    highpass_hz: float | None = None,
    smooth: bool = True,
    page: int = 0,
    hints: DigitizeHints | None = None,
) -> Digitization:
    """Digitize a photo, scan or export of a paper ECG.

    Parameters
    ----------
    source : path, bytes or ndarray
        The image (PNG, JPEG, TIFF, PDF page) or an RGB array.
    method : {"classical", "unet"}
        Trace segmentation: ``"classical"`` = ink darkness with the grid colour divided out; ``"unet"`` = the same
        ink map with the blobs the trained segmenter (``models/trace_unet.onnx``) does not call trace removed.
        The default is the better of the two on ``bench/digitize_eval.py``.
    rectify_method : {"grid-lines", "none"}
        Rotation/perspective correction (see :func:`digitize.preprocess.rectify`).
    template : str, optional
        Force a layout template (see :data:`digitize.layout.TEMPLATES`); chosen automatically by default.
    fs : float
        Output sampling rate (Hz).
    highpass_hz : float or None
        Optional zero-phase baseline-wander high-pass cut-off (Hz). Off (None) by default: the record is faithful
        to the paper, and ``analyze`` applies its own cleaning.
    smooth : bool
        Savitzky–Golay smoothing (10 ms, cubic: keeps QRS width and height).
    page : int
        PDF page (0-based).
    hints : DigitizeHints, optional
        Reader-given layout, lead names, speed, gain, rhythm leads and excluded leads; they override detection
        (:mod:`digitize.hints`).

    Raises
    ------
    EcgInputError
        For unreadable or oversize images, images with no ECG, and hints that do not fit the image.
    """
    hints = hints or DigitizeHints()
    template = hints.layout or template
    if method not in DIGITIZE_METHODS:
        raise ValueError(f"unknown digitize method {method!r}; valid methods: {', '.join(DIGITIZE_METHODS)}")
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    image = load_image(source, page=page)
    lap("load")
    orientation = detect_orientation(image)
    image = upright(image, orientation)
    lap("orient")
    rectified = rectify(image, method=rectify_method)
    keystone_note = None
    if rectified.perspective >= PHOTO_PERSPECTIVE:  # photographed at an angle: a residual convergence is common
        rectified, keystone_note = straighten_keystone(image, rectified)
    lap("rectify")
    layers = ink_layers(rectified.image, paper_mask=rectified.paper_mask)
    calibration = calibrate(layers.lines, paper_mask=rectified.paper_mask)
    prob = _trace_map(layers, calibration)
    path_prob = None
    if method == "unet":
        path_prob = _unet_probability(rectified.image, calibration, rectified.paper_mask)
    lap("segment")
    layout = detect_layout(prob, calibration, template=template)
    speed_before = calibration.speed_mm_s
    calibration = apply_hinted_scale(apply_pulses(calibration, list(layout.pulses)), hints)
    if calibration.source == "pulse" or calibration.speed_mm_s != speed_before:
        # the scale or the speed changed: find the panels again with it
        layout = detect_layout(prob, calibration, template=template)
    lap("calibrate+layout")
    merge = photographed_spikes(rectified.perspective, calibration)
    column_traces: list[RowTrace] = []  # the same paths sampled column by column: what the label reader erases
    traces = extract_traces(prob, layout, calibration, path_prob=path_prob, merge_spikes=merge,
                            column_traces=column_traces)
    phantoms = _evidence.phantom_rows(prob, traces, calibration, layout.baselines) if template is None else []
    if phantoms:
        layout = _without_rows(prob, layout, calibration, phantoms)
        traces = extract_traces(prob, layout, calibration, path_prob=path_prob, merge_spikes=merge,
                                column_traces=column_traces)
    if calibration.source == "assumed" and max(qrs_like_deflections(t, calibration) for t in traces) < MIN_BEATS_IN_ROW:
        raise NoEcgFoundError(
            "no ECG found: no grid, no calibration pulse and no heartbeat-like deflections in the lines traced"
        )
    evidence = _evidence.ecg_evidence(prob, traces, layout, calibration)
    _evidence.require_ecg(evidence)
    layout = resolve_layout(layout, traces, calibration, forced=template is not None)
    layout, column_notes = settle_columns(traces, layout, calibration, fs)
    lap("trace")
    label_factors: dict[str, tuple[float, str]] = {}
    if hints.leads or hints.rhythm_leads:
        labels: list[LabelRead] = []
        layout = apply_hinted_leads(layout, hints)
        limbs = limb_check(layout_signals(traces, layout, calibration, fs), fs)
        order_notes = ["lead names from the user's hints"]
    else:
        labels = read_labels(layers.ink, column_traces, layout, calibration)
        layout, limbs, order_notes, label_factors = assign_leads(
            traces, layout, calibration, fs, labels, override=not merge
        )
        if hints.rename:  # a reader's rename applies to the names the automatic path gave (what the reader saw)
            layout = apply_hinted_leads(layout, hints)
            limbs = limb_check(layout_signals(traces, layout, calibration, fs), fs)
            order_notes = [*order_notes, "leads renamed by the user"]
            label_factors = {}
    geometry_notes = (keystone_note,) if keystone_note else ()
    layout = replace(layout, notes=layout.notes + tuple(column_notes) + tuple(order_notes) + geometry_notes)
    lap("labels")
    record = reconstruct(
        traces,
        layout,
        calibration,
        fs=fs,
        highpass_hz=highpass_hz,
        smooth=smooth,
        meta={"source_file": str(source) if isinstance(source, (str, Path)) else "image"},
    )
    lead_evidence: dict[str, LeadEvidence] = {}
    confidence, reasons = lead_confidences(
        traces, layout, calibration, limbs=limbs, labels=labels, label_factors=label_factors,
        repeats=repeat_checks(traces, layout, calibration, fs),
        precordial=precordial_fit({lead: record.signals[i] for i, lead in enumerate(LEADS)}, fs),
        evidence_out=lead_evidence,
    )
    if hints.exclude:
        signals = record.signals.copy()
        for lead in hints.exclude:
            signals[LEADS.index(lead)] = np.nan
            confidence[lead], reasons[lead] = 0.0, ("excluded by the user",)
        record = replace(record, signals=signals)
    quality, quality_notes = image_quality(
        confidence, calibration, layout, rectified.method, rectified.rotation_deg, orientation, limbs
    )
    confidence, reasons = cap_by_quality(confidence, reasons, quality)
    record = record.with_meta(**digitization_meta(quality, confidence, reasons, layout, calibration, hints))
    lap("reconstruct")
    overlay = draw_overlay(image, rectified.homography, traces, layout, calibration)
    lap("overlay")
    timings["total"] = sum(timings.values())
    return Digitization(
        record, calibration, layout, confidence, reasons, quality, quality_notes, overlay, tuple(traces), timings,
        evidence, tuple(labels), rectified.homography, lead_evidence,
    )


def _without_rows(
    prob: np.ndarray, layout: Layout, calibration: Calibration, phantoms: list[tuple[int, str]]
) -> Layout:
    """The layout again from the rows found minus the phantom rows (:func:`digitize.evidence.phantom_rows`)."""
    baselines, coverage = find_rows(prob, calibration.px_per_mm_y)
    keep = np.ones(baselines.size, dtype=bool)
    for row, _ in phantoms:
        keep[int(np.argmin(np.abs(baselines - layout.baselines[row])))] = False
    redone = detect_layout(prob, calibration, rows=(baselines[keep], coverage[keep]))
    notes = [f"row at y {layout.baselines[row]:.0f} px dropped: no ECG trace ({why})" for row, why in phantoms]
    return replace(redone, notes=redone.notes + tuple(notes))


PHOTO_PERSPECTIVE = 0.03
"""Perspective (:attr:`digitize.preprocess.Rectified.perspective`) from which the page was photographed at an angle."""

MERGE_MAX_PX_PER_MM = 6.5
"""Scale (px/mm) below which a narrow QRS (30–40 ms, under 1 mm at 25 mm/s) spans only a few pixel columns."""


def photographed_spikes(perspective: float, calibration: Calibration) -> bool:
    """Whether to read narrow QRS blobs as one spike (:func:`digitize.trace.refine_path` ``merge_spikes``).

    A photograph taken at an angle (perspective ≥ :data:`PHOTO_PERSPECTIVE`) at a low resolution (< :data:`
    MERGE_MAX_PX_PER_MM` px/mm) blurs an R wave's up- and down-strokes into one blob 3–5 columns wide whose columns
    all span the spike; the per-column crossings then sit mid-spike and the apex is lost (kit-dev photos: R waves
    read at half height). Flat scans and renders keep the per-column reading (on sharp 150 dpi renders the merged
    reading lost 1–3 dB).
    """
    scale = float(np.sqrt(calibration.px_per_mm_x * calibration.px_per_mm_y))
    return bool(np.isfinite(perspective) and perspective >= PHOTO_PERSPECTIVE and scale < MERGE_MAX_PX_PER_MM)


WEAK_ROW_COVERAGE = 0.6
"""Median row coverage (:func:`digitize.layout.find_rows`) below which the trace map is retried without grid lines."""


def _trace_map(layers: InkLayers, calibration: Calibration) -> np.ndarray:
    """The classical trace map; when its rows are weak, the map without long vertical lines if its rows are stronger.

    A black-and-white grid's lines are as dark as a thin trace and set the ink levels, so the trace fades below the
    row finder's threshold; removing the lines (:func:`digitize.trace.without_vertical_lines`) helps there but
    cuts traces at every crossing, so it is only used when it makes the rows clearer.
    """
    prob = trace_probability(layers, method="classical")
    strength = _row_coverage(prob, calibration)
    if strength >= WEAK_ROW_COVERAGE:
        return prob
    cleaned = without_vertical_lines(layers.ink, calibration.px_per_mm_y)
    if cleaned is layers.ink:
        return prob
    alternative = trace_probability(replace(layers, ink=cleaned), method="classical")
    return alternative if _row_coverage(alternative, calibration) > strength + 0.1 else prob


def _row_coverage(prob: np.ndarray, calibration: Calibration) -> float:
    _, strength = find_rows(prob, calibration.px_per_mm_y)
    return float(np.median(strength)) if strength.size else 0.0


def _unet_probability(image: np.ndarray, calibration: Calibration, paper_mask: np.ndarray) -> np.ndarray:
    from digitize.segment import default_segmenter

    scale = float(np.sqrt(calibration.px_per_mm_x * calibration.px_per_mm_y))
    prob = default_segmenter().probability(image, scale)
    prob[~paper_mask] = 0.0
    return prob


def extract_traces(
    prob: np.ndarray,
    layout: Layout,
    calibration: Calibration,
    *,
    path_prob: np.ndarray | None = None,
    merge_spikes: bool = False,
    column_traces: list[RowTrace] | None = None,
) -> list[RowTrace]:
    """One sub-pixel trace per layout row over the record's time span (calibration pulses masked out).

    ``prob`` is the sharp ink map the path runs on and the strokes are measured on. ``path_prob`` (the U-Net's
    map), when given, removes the ink blobs the network does not call trace (grid, text, noise; see
    :func:`trace_components`). ``merge_spikes``: see :func:`photographed_spikes`. ``column_traces``, when given,
    is filled with the same paths sampled column by column only (no row-wise stroke samples): the printed-label
    reader erases those, since a steep glyph stroke beside a trace's start can draw row-wise samples into the label
    (measured: "II" read as "I" on a 200 dpi page).
    """
    margin = int(0.05 * calibration.px_per_s)
    x0 = max(0, int(np.floor(layout.x_origin)) - margin)
    x1 = min(prob.shape[1], int(np.ceil(layout.x_end)) + margin)
    if x1 - x0 < 8:
        raise NoEcgFoundError("no ECG found: the trace rows are too short to read")
    # The pulse's columns are ignored, but never past the time origin (some printers start the trace on the
    # pulse's falling edge).
    blocked = [
        (int(p.x_start) - 3, min(int(np.ceil(p.x_end)) + 3, int(layout.x_origin) - 1)) if p is not None else None
        for p in layout.pulses
    ]
    if path_prob is not None:
        prob = prob * trace_components(prob, path_prob)
    paths = viterbi_rows(prob, layout.baselines, layout.row_spacing_px, (x0, x1), blocked=blocked)
    width = line_width_px(prob, paths[0], x0)
    sharp = float(np.sqrt(calibration.px_per_mm_x * calibration.px_per_mm_y)) >= ROW_STROKE_MIN_PX_PER_MM
    traces = [
        refine_path(prob, path, x0, line_px=width, reach_px=layout.row_spacing_px, row_strokes=sharp,
                    merge_spikes=merge_spikes)
        for path in paths
    ]
    if column_traces is not None:
        column_traces[:] = traces if not sharp else [
            refine_path(prob, path, x0, line_px=width, reach_px=layout.row_spacing_px, row_strokes=False,
                        merge_spikes=merge_spikes)
            for path in paths
        ]
    return traces


def trace_components(prob: np.ndarray, unet_prob: np.ndarray) -> np.ndarray:
    """Mask of the connected ink blobs (8-connected, ``prob ≥ RUN_LEVEL``) that the U-Net calls trace somewhere.

    Whole blobs are kept or dropped: the network, run at ~3.5 px/mm, fades at the thin tips of QRS complexes, so
    its map must not cut the sharp ink map pixel by pixel (measured: a pixel gate cost 8 dB on clean kit-dev
    images); text, labels and specks that do not touch a trace are dropped.
    """
    count, labels = cv2.connectedComponents((prob >= RUN_LEVEL).astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[np.unique(labels[unet_prob >= GATE_LEVEL])] = True
    keep[0] = False
    return keep[labels]
