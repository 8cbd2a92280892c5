"""Find the trace rows of a rectified ECG, their time span, and which lead each stretch of a row shows.

Rows are where the trace ink runs across most of the page (a text line does not); their count picks the standard
template (3×4, 3×4+1, 3×4+3, 6×2, 12×1: each row is divided into equal time blocks, 2.5 s each for 3×4). The time
origin is the rows' common right end minus the template duration: printers disagree on where the trace starts
relative to the calibration pulse (on its falling edge, or a millimetre after it), but every one ends the rows at
the record's end. Six rows (3×4+3 or 6×2) and the rhythm strips' leads are settled from the traces
(:mod:`digitize.assign`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from digitize.calibrate import STANDARD_SPEED_MM_S, Calibration
from digitize.load import NoEcgFoundError
from digitize.pulse import Pulse, find_pulse

TEMPLATES: dict[str, tuple[tuple[str, ...], ...]] = {
    "3x4": (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6")),
    "3x4+1": (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"), ("II",)),
    "3x4+3": (
        ("I", "aVR", "V1", "V4"),
        ("II", "aVL", "V2", "V5"),
        ("III", "aVF", "V3", "V6"),
        ("V1",),
        ("II",),
        ("V5",),
    ),
    "6x2": (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6")),
    "6x2+1": (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"), ("II",)),
    "12x1": tuple((name,) for name in ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")),
    "12x1+1": tuple((name,) for name in ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"))
    + (("II",),),
    "1x1": (("II",),),
}
"""Standard printouts: per row, the leads it shows left to right in equal time blocks."""

TEMPLATE_BY_ROWS = {1: "1x1", 3: "3x4", 4: "3x4+1", 6: "3x4+3", 7: "6x2+1", 12: "12x1", 13: "12x1+1"}
"""Template chosen from the number of rows found (6 rows: 3×4+3 unless the rows look like 6×2)."""

ROW_INK_LEVELS = (0.5, 0.3, 0.15)
"""Trace-probability levels tried, in order, as "ink" when looking for rows."""

WEAK_ROWS = 0.6
"""Median row coverage below which the next, lower ink level is tried."""

MAX_INK_SHARE = 0.12
"""Largest share of the page a lower ink level may mark as ink (traces, labels and text cover a few per cent)."""

MIN_LOW_LEVEL_ROWS = 0.55
"""Median coverage rows found at a lower ink level need (faint real rows 0.6–0.9; random noise 0.25–0.34, a blank
grid 0.46)."""

STRAIGHT_LINE_MM = 60.0
"""Length (mm) of a perfectly horizontal ink run taken for a grid line, not a trace, at the lower ink levels."""

PULSE_OVERLAP_MM = 0.75
"""How far (mm) before the end of the calibration pulse a trace may start (drawn from its falling edge)."""

EDGE_SHARE = 0.015
"""Share of the page height at its top and bottom where no row is looked for (was 4 %: that cut 12×1 prints'
rhythm strip, printed 4–5 % above the page's lower edge; foreign test f0005, f0061)."""

RECORD_DURATION_S = 10.0
"""Time span of every standard template at 25 mm/s (s); half that at 50 mm/s."""


@dataclass(frozen=True)
class Panel:
    """One lead's stretch of a row (rectified-image pixels and seconds)."""

    lead: str
    row: int
    x_start: float
    x_end: float
    t_start_s: float
    duration_s: float
    time_shift_s: float = 0.0
    """Added to the time read from the panel's position (−5 s for the right column of a 6×2 print whose columns
    show the same 5 s)."""
    sign: float = 1.0
    """−1 for a lead printed inverted (−aVR in the Cabrera order)."""


@dataclass(frozen=True)
class Layout:
    """Where the rows and leads are.

    Attributes
    ----------
    template : str
        One of :data:`TEMPLATES`.
    baselines : tuple of float
        Each row's baseline y (px), top to bottom.
    row_spacing_px : float
        Typical distance between rows (px).
    x_origin, x_end : float
        Columns of t = 0 and of the end of the record (px).
    duration_s : float
        Time span of a full row (s).
    panels : tuple of Panel
        Every lead stretch.
    pulses : tuple of (Pulse or None)
        The calibration pulse of each row, where found.
    notes : tuple of str
        How the template and the time origin were decided.
    """

    template: str
    baselines: tuple[float, ...]
    row_spacing_px: float
    x_origin: float
    x_end: float
    duration_s: float
    panels: tuple[Panel, ...]
    pulses: tuple[Pulse | None, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def find_rows(prob: np.ndarray, px_per_mm_y: float) -> tuple[np.ndarray, np.ndarray]:
    """Baselines (px) of the trace rows and the share of columns each one's ink covers.

    A row is a horizontal band, 4 mm tall, in which trace ink appears across much of the width. Ink is
    ``prob ≥ 0.5``; when the rows found so are weak (median coverage < :data:`WEAK_ROWS`: a thin trace at low
    resolution, a black-and-white grid as dark as the trace), lower ink levels are tried and the level whose rows
    are clearly stronger is kept.
    """
    best = _rows_at(prob, px_per_mm_y, ROW_INK_LEVELS[0])
    for level in ROW_INK_LEVELS[1:]:
        if best[1].size and float(np.median(best[1])) >= WEAK_ROWS:
            break
        if float((prob[::4, ::4] >= level).mean()) > MAX_INK_SHARE:
            break  # ink everywhere at this level: noise or texture, not a faint trace
        candidate = _rows_at(prob, px_per_mm_y, level)
        strength = float(np.median(candidate[1])) if candidate[1].size else 0.0
        if strength >= MIN_LOW_LEVEL_ROWS and (not best[1].size or strength > float(np.median(best[1])) + 0.1):
            best = candidate
    return best


def _rows_at(prob: np.ndarray, px_per_mm_y: float, level: float) -> tuple[np.ndarray, np.ndarray]:
    ink = (prob >= level).astype(np.uint8)
    if level < ROW_INK_LEVELS[0]:
        # Low levels also catch a grid's faint lines: drop every run straight along one pixel row for 60 mm (a
        # trace leaves its baseline at every QRS complex) or one pixel column for 30 mm.
        for shape in ((STRAIGHT_LINE_MM, 1), (1, 0.5 * STRAIGHT_LINE_MM)):  # horizontal, then vertical lines
            size = tuple(max(1, int(round(mm * px_per_mm_y))) if mm > 1 else 1 for mm in shape)
            if max(size) < 8 or size[0] >= ink.shape[1] or size[1] >= ink.shape[0]:
                continue
            lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, size))
            ink[cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0] = 0
    band = max(3, int(round(4.0 * px_per_mm_y)) | 1)
    spread = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (1, band)))
    used = ink.any(axis=0)
    width = max(1, int(used.sum()))
    coverage = spread[:, used].sum(axis=1) / width if used.any() else np.zeros(prob.shape[0])
    coverage = gaussian_filter1d(coverage.astype(np.float64), max(1.0, 0.5 * px_per_mm_y))
    # A line hugging the top or bottom edge is the paper's border or a scanner shadow, not a trace row; lines a
    # little further in are left to the phantom-row test (:func:`digitize.evidence.phantom_rows`).
    edge = int(EDGE_SHARE * prob.shape[0])
    coverage[:edge] = 0.0
    coverage[prob.shape[0] - edge :] = 0.0
    if coverage.max() < 0.2:
        return np.zeros(0), np.zeros(0)
    peaks, _ = find_peaks(
        coverage, height=max(0.2, 0.4 * coverage.max()), distance=max(1, int(6 * px_per_mm_y)), prominence=0.1
    )
    return peaks.astype(np.float64), coverage[peaks]


def detect_layout(
    prob: np.ndarray,
    calibration: Calibration,
    *,
    template: str | None = None,
    rows: tuple[np.ndarray, np.ndarray] | None = None,
) -> Layout:
    """Rows, time span and lead panels of a rectified ECG.

    Parameters
    ----------
    prob : ndarray (H, W)
        Trace probability.
    calibration : Calibration
        Pixel scale.
    template : str, optional
        Force a template from :data:`TEMPLATES` instead of choosing it from the row count.
    rows : (baselines, coverage), optional
        The rows to use (:func:`find_rows`' output, phantom rows removed); found by :func:`find_rows` by default.

    Raises
    ------
    NoEcgFoundError
        When no trace row is found.
    """
    baselines, strength = find_rows(prob, calibration.px_per_mm_y) if rows is None else rows
    if baselines.size == 0:
        raise NoEcgFoundError("no ECG found: no trace rows in the image")
    notes: list[str] = []
    if template is not None and template not in TEMPLATES:
        raise ValueError(f"unknown layout template {template!r}; valid templates: {', '.join(TEMPLATES)}")
    if template is not None and len(TEMPLATES[template]) > baselines.size:
        notes.append(f"template {template} asked for, but only {baselines.size} rows found")
        template = None
    if template is None:
        template, keep = _choose_template(strength)
    else:
        keep = np.argsort(strength)[::-1][: len(TEMPLATES[template])]
    if keep.size < baselines.size:
        notes.append(f"{baselines.size} rows found; the {keep.size} strongest kept for template {template}")
    baselines = baselines[np.sort(keep)]
    rows = TEMPLATES[template]
    spacing = float(np.median(np.diff(baselines))) if baselines.size > 1 else 25.0 * calibration.px_per_mm_y
    extents = [_row_extent(prob, y, spacing, calibration.px_per_s) for y in baselines]
    pulses = tuple(_row_pulse(prob, y, x0, spacing, calibration) for y, (x0, _) in zip(baselines, extents, strict=True))
    x_end = float(np.median([e for _, e in extents]))
    # A full row is 250 mm of paper: 10 s at 25 mm/s, 5 s at 50 mm/s.
    duration = RECORD_DURATION_S * STANDARD_SPEED_MM_S / calibration.speed_mm_s
    span_px = duration * calibration.px_per_s
    x_origin = x_end - span_px
    notes.append(f"time origin {duration:g} s before the rows' right end")
    pulse_ends = [p.x_end for p in pulses if p is not None]
    if pulse_ends:
        # The trace cannot start before the pulse has fallen (some printers start it on the falling edge): an
        # origin earlier than that means the right end was overestimated (a shadow or the paper's edge).
        earliest = float(np.median(pulse_ends)) - PULSE_OVERLAP_MM * calibration.px_per_mm_x
        if x_origin < earliest:
            x_origin = earliest
            notes.append("time origin moved to the calibration pulse's falling edge")
    panels = template_panels(rows, x_origin, duration, calibration.px_per_s)
    return Layout(
        template,
        tuple(float(b) for b in baselines),
        spacing,
        x_origin,
        x_origin + span_px,
        duration,
        panels,
        pulses,
        tuple(notes),
    )


PULSE_SEARCH_BEFORE_S = 0.5
"""How far before a row's first trace column a pulse cut by the first search window is looked for again (s at the
provisional speed): a 50 mm/s pulse and its lead-in span 0.45 s of 25 mm/s paper."""


def _row_pulse(prob: np.ndarray, y: float, x0: float, spacing: float, calibration: Calibration) -> Pulse | None:
    """The calibration pulse at a row's start: ink at ``prob > 0.5``, else at ``> 0.25`` (thin, faint strokes).

    Searched from 0.1 s before the row's first trace column. A pulse that touches that window's left edge was cut
    by it: where the rows are close, the top of a wide pulse (50 mm/s) lies outside the band that finds the row's
    extent, which then starts at the pulse's falling edge; it is searched again from :data:`PULSE_SEARCH_BEFORE_S`
    before, up to the end of the cut pulse.
    """

    def search(x_lo: float, x_hi: float, level: float) -> Pulse | None:
        return find_pulse(
            prob,
            y,
            int(x_lo),
            int(x_hi),
            px_per_mm_x=calibration.px_per_mm_x,
            band_px=(int(y - 0.9 * spacing), int(y + 0.2 * spacing)),
            ink_level=level,
        )

    x_lo = max(0.0, x0 - 0.1 * calibration.px_per_s)
    for level in (0.5, 0.25):
        pulse = search(x_lo, x0 + 0.6 * calibration.px_per_s, level)
        if pulse is not None and x_lo > 0 and pulse.x_start <= int(x_lo) + 1:
            whole = search(x0 - PULSE_SEARCH_BEFORE_S * calibration.px_per_s, pulse.x_end + 2, level)
            if whole is not None and abs(whole.x_end - pulse.x_end) <= 2:
                pulse = whole
        if pulse is not None:
            return pulse
    return None


def template_panels(
    rows: tuple[tuple[str, ...], ...], x_origin: float, duration_s: float, px_per_s: float
) -> tuple[Panel, ...]:
    """Panels of a template: each row divided into equal time blocks from ``x_origin``."""
    panels = []
    for r, leads in enumerate(rows):
        block = duration_s / len(leads)
        for c, lead in enumerate(leads):
            t0 = c * block
            panels.append(Panel(lead, r, x_origin + t0 * px_per_s, x_origin + (t0 + block) * px_per_s, t0, block))
    return tuple(panels)


def _choose_template(strength: np.ndarray) -> tuple[str, np.ndarray]:
    """Template for the number of rows; extra weak rows (text lines) are dropped to reach a known count.

    Of 7 or 13 rows, only the top or the bottom one can be an extra text line: a weak row inside the stack is a
    lead with tall complexes (they spread its ink out of the 4 mm band), not text (12×1 prints lost a V-lead row
    and kept the rhythm strip under the wrong names).
    """
    order = np.argsort(strength)[::-1]
    count = max(c for c in TEMPLATE_BY_ROWS if c <= strength.size)
    keep = np.sort(order[:count])
    if count in (7, 13):
        median = float(np.median(strength[keep]))
        outer = min((keep[0], keep[-1]), key=lambda i: strength[i])
        if strength[outer] < EXTRA_ROW_SHARE * median:
            return TEMPLATE_BY_ROWS[count - 1], keep[keep != outer]  # a text line, not a rhythm strip
    return TEMPLATE_BY_ROWS[count], keep


EXTRA_ROW_SHARE = 0.4
"""Coverage (share of the rows' median) the weaker outer row of 7 or 13 needs to be read as a row at all; text lines
that pass are removed after tracing by the phantom-row test (:func:`digitize.evidence.phantom_rows`). Was 0.7:
the top lead of a 12×1 print with tall complexes reached only 0.58 (foreign test f0061)."""


def _row_extent(prob: np.ndarray, baseline: float, spacing: float, px_per_s: float) -> tuple[float, float]:
    """First and last column of the row's trace: the longest stretch with ink near the baseline (gaps < 0.3 s)."""
    top = max(0, int(baseline - 0.3 * spacing))
    bottom = min(prob.shape[0], int(baseline + 0.3 * spacing) + 1)
    has_ink = (prob[top:bottom] >= 0.5).any(axis=0).astype(np.uint8)
    gap = max(3, int(0.3 * px_per_s))
    closed = cv2.morphologyEx(has_ink[None, :], cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8))[0].astype(bool)
    padded = np.concatenate([[False], closed, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    if edges.size == 0:
        return 0.0, float(prob.shape[1])
    starts, stops = edges[::2], edges[1::2]
    longest = int(np.argmax(stops - starts))
    return float(starts[longest]), float(stops[longest])
