"""Find the printed lead labels next to each panel's start and read them (closed vocabulary: the 12 lead names).

Where: a label is printed just left of, above or below the point where its lead's trace starts. Around each
panel's start (:class:`digitize.layout.Panel`) the black-ink layer (coloured grid divided out,
:class:`digitize.preprocess.InkLayers`) is cut out, the traced paths of every row and long straight lines (grid of
a black-and-white print, calibration pulse, lead separators) are erased, and the remaining character-sized blobs are
grouped into words; the word nearest the panel start is the label candidate.

What: the word's crop, as black text on white, goes to a text-line recogniser (:mod:`digitize.ocr`), which scores
each of the 12 lead names (CTC likelihood); the best name and its probability are the read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from digitize.calibrate import Calibration
from digitize.layout import Layout, Panel
from digitize.trace import RowTrace

SEARCH_LEFT_MM, SEARCH_RIGHT_MM = 14.0, 16.0
"""How far left and right of a panel's start (mm) a label is looked for."""

CHAR_MM = (1.0, 9.0)
"""Height range (mm) of a label's characters."""

TEXT_LEVEL = 0.35
"""Ink darkness (0–1) from which a pixel counts as printed text."""

LINE_MM = 4.5
"""Straight ink runs at least this long (mm) are lines (grid, pulse, separators), not letters."""


BAR_MM = 0.5
"""Strokes at least this thick (mm) are separator bars or blots, not letters (printed letters: 0.2–0.35 mm)."""


@dataclass(frozen=True)
class LabelCrop:
    """The label candidate of one panel: its box (x0, y0, x1, y1, rectified px) and the crop (uint8, text dark)."""

    panel: int
    box: tuple[int, int, int, int]
    image: np.ndarray


def _trace_mask(shape: tuple[int, int], traces: Sequence[RowTrace], width_px: int) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    for trace in traces:
        if trace.x.size < 2:
            continue
        points = np.stack([trace.x, trace.y], axis=1)
        points = np.round(points * 4).astype(np.int32)  # 2 fractional bits
        cv2.polylines(mask, [points.reshape(-1, 1, 2)], False, 1, thickness=width_px, shift=2)
    return mask.astype(bool)


def _remove_lines(binary: np.ndarray, length_px: int) -> np.ndarray:
    """``binary`` (uint8 0/1) without horizontal and vertical runs of ``length_px`` or longer."""
    length_px = max(3, length_px)
    horizontal = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length_px, 1)))
    vertical = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length_px)))
    lines = cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8))
    return binary & (1 - lines)


def _off_trace(binary: np.ndarray, trace: np.ndarray, px_per_mm: float) -> np.ndarray:
    """``binary`` without the traced paths and without the separator bars across them (blobs touching a path that
    are narrow, ≤ 1.2 mm, yet thick, ≥ :data:`BAR_MM` of ink per pixel row); letters a wave runs through are kept."""
    near = cv2.dilate(trace.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    binary = binary & (~trace).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    keep = np.ones(count, dtype=bool)
    keep[0] = False
    for i in np.unique(labels[near]):
        _, _, w, h, area = stats[i]
        if i and w <= 1.2 * px_per_mm and area >= BAR_MM * px_per_mm * h:
            keep[i] = False
    return keep[labels].astype(np.uint8)


def _words(binary: np.ndarray, px_per_mm: float) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of character-sized blobs grouped into words (same line, gaps < ~1 character)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    lo, hi = CHAR_MM[0] * px_per_mm, CHAR_MM[1] * px_per_mm
    chars = []
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        small_dot = h < lo and w < lo and area >= 2  # the dot of an 'i'-like glyph is ignored
        if small_dot or not (lo <= h <= hi) or w > 1.6 * hi or area < 0.08 * w * h:
            continue
        chars.append([x, y, x + w, y + h])
    chars.sort()
    words: list[list[int]] = []
    for box in chars:
        for word in words:
            height = max(word[3] - word[1], box[3] - box[1])
            overlap = min(word[3], box[3]) - max(word[1], box[1])
            if overlap > 0.4 * min(word[3] - word[1], box[3] - box[1]) and box[0] - word[2] < 0.8 * height:
                word[:] = [min(word[0], box[0]), min(word[1], box[1]), max(word[2], box[2]), max(word[3], box[3])]
                break
        else:
            words.append(list(box))
    return [tuple(w) for w in words]  # type: ignore[misc]


def _distance(box: tuple[int, int, int, int], start: tuple[float, float]) -> float:
    """Distance (px) from a word's centre to a panel's start, vertical distances weighted 1.3×."""
    return float(np.hypot(0.5 * (box[0] + box[2]) - start[0], 1.3 * (0.5 * (box[1] + box[3]) - start[1])))


def label_crops(
    ink: np.ndarray,
    traces: Sequence[RowTrace],
    layout: Layout,
    calibration: Calibration,
    panels: Sequence[int] | None = None,
) -> list[LabelCrop]:
    """The label candidate of every panel (or of ``panels``) that has one (panels without a word nearby are left
    out)."""
    crop = _cropper(ink, traces, layout, calibration)
    found = (crop(i) for i in (range(len(layout.panels)) if panels is None else panels))
    return [c for c in found if c is not None]


def _cropper(ink: np.ndarray, traces: Sequence[RowTrace], layout: Layout, calibration: Calibration):
    """A function panel index → its :class:`LabelCrop` (or None), sharing the erased-path mask."""
    px_per_mm = float(np.sqrt(calibration.px_per_mm_x * calibration.px_per_mm_y))
    height, width = ink.shape
    spacing = layout.row_spacing_px
    erased = _trace_mask(ink.shape, traces, max(3, int(round(0.5 * px_per_mm))))

    def crop(index: int) -> LabelCrop | None:
        panel = layout.panels[index]
        baseline = layout.baselines[panel.row]
        x0 = int(max(0, panel.x_start - SEARCH_LEFT_MM * px_per_mm))
        x1 = int(min(width, panel.x_start + SEARCH_RIGHT_MM * px_per_mm))
        y0 = int(max(0, baseline - 0.6 * spacing))
        y1 = int(min(height, baseline + 0.6 * spacing))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        region = ink[y0:y1, x0:x1]
        binary = _remove_lines((region >= TEXT_LEVEL).astype(np.uint8), int(LINE_MM * px_per_mm))
        binary = _off_trace(binary, erased[y0:y1, x0:x1], px_per_mm)
        words = _words(binary, px_per_mm)
        if not words:
            return None
        start = (panel.x_start - x0, baseline - y0)
        bx0, by0, bx1, by1 = min(words, key=lambda box: _distance(box, start))
        pad = max(2, int(0.25 * (by1 - by0)))
        gx0, gy0 = max(0, x0 + bx0 - pad), max(0, y0 + by0 - pad)
        gx1, gy1 = min(width, x0 + bx1 + pad), min(height, y0 + by1 + pad)
        text = np.clip(ink[gy0:gy1, gx0:gx1], 0.0, 1.0)
        text = np.where(erased[gy0:gy1, gx0:gx1], 0.0, text)
        return LabelCrop(index, (gx0, gy0, gx1, gy1), (255 * (1.0 - text)).astype(np.uint8))

    return crop


@dataclass(frozen=True)
class LabelRead:
    """What the label next to a panel says: the lead name and its probability (None when unreadable)."""

    panel: int
    lead: str | None
    probability: float
    box: tuple[int, int, int, int]


READ_LEVEL = 0.5
"""Probability from which a label read counts."""


EARLY_STOP_AGREE = 4
"""Labels read (≥ :data:`EARLY_STOP_LEVEL`) that must name their template lead, covering every column of the grid
and with none read against it, before the remaining crops are left unread (:func:`read_labels`)."""

EARLY_STOP_RECOGNISED = 2
"""Of those, labels read by the recogniser (not stroke-counted I, II, III)."""

EARLY_STOP_LEVEL = 0.8
"""Probability from which a label read counts towards stopping early (:data:`digitize.identity.OVERRIDE_LEVEL`)."""


def read_labels(
    ink: np.ndarray,
    traces: Sequence[RowTrace],
    layout: Layout,
    calibration: Calibration,
    *,
    early_stop: bool = True,
) -> list[LabelRead]:
    """Read the panels' printed labels (:func:`label_crops` → :mod:`digitize.ocr`).

    Labels of 1–3 upright strokes (I, II, III) are counted first (no recogniser). The others are read one at a time,
    the first row's panels first; with ``early_stop``, reading stops once :data:`EARLY_STOP_AGREE` labels name the
    template's lead in every column and none names another lead (a print in the template's order: the rest would
    only confirm it). Any disagreement, and any non-standard order, reads every panel.
    """
    from digitize.ocr import STROKE_PROBABILITY, default_recogniser, roman_strokes

    crop_of = _cropper(ink, traces, layout, calibration)
    crops = [c for c in (crop_of(i) for i in range(len(layout.panels))) if c is not None]
    if not crops:
        return []
    columns = {round(p.t_start_s, 1) for p in layout.panels}
    scored: dict[int, tuple[str, float]] = {}
    pending = []
    for crop in crops:
        strokes = roman_strokes(crop.image)
        if strokes:
            scored[crop.panel] = ("I" * strokes, STROKE_PROBABILITY)
        else:
            pending.append(crop)
    pending.sort(key=lambda c: (layout.panels[c.panel].row, c.panel))
    recogniser = default_recogniser() if pending else None
    for crop in pending:
        if early_stop and _template_confirmed(scored, layout, columns):
            break
        scored[crop.panel] = recogniser.recognise([crop.image])[0]
    return [
        LabelRead(c.panel, lead if p >= READ_LEVEL else None, p, c.box)
        for c in crops
        if c.panel in scored
        for lead, p in [scored[c.panel]]
    ]


def _template_confirmed(scored: dict[int, tuple[str, float]], layout: Layout, columns: set) -> bool:
    """Whether the labels read so far confirm the template's lead names (see :func:`read_labels`)."""
    agree, recognised, seen = 0, 0, set()
    for index, (lead, p) in scored.items():
        panel = layout.panels[index]
        if p >= READ_LEVEL and lead != panel.lead:
            return False
        if p >= EARLY_STOP_LEVEL:
            agree += 1
            recognised += lead not in ("I", "II", "III")
            seen.add(round(panel.t_start_s, 1))
    return agree >= EARLY_STOP_AGREE and recognised >= EARLY_STOP_RECOGNISED and seen >= columns


def panel_reads(reads: Sequence[LabelRead], panels: Sequence[Panel]) -> dict[int, tuple[str, float]]:
    """Panel index → (lead, probability) for the labels read with at least :data:`READ_LEVEL`."""
    return {r.panel: (r.lead, r.probability) for r in reads if r.lead is not None and r.panel < len(panels)}
