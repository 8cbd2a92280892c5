"""How far each digitized lead, and the whole image, can be trusted: evidence per lead, mapped to a confidence.

Evidence per lead (:class:`LeadEvidence`): how much of the path ran on ink and how strong the ink was, how much of
the lead's time window the trace covers, where the scale came from, the Einthoven/Goldberger check of the limb leads
(:mod:`digitize.physics`), and whether the printed label next to the panel reads the same lead
(:mod:`digitize.labels`). The trace-quality part (ink, strength, coverage, scale) gives a raw score; the identity
evidence (physics, label) and the image's evidence (its limb residual, how many labels agree) cap it. The caps were
set on foreign *validation* images (ECG-Image-Kit renders of validation-split PTB-XL patients, /work/foreign/val)
and kit-dev so that a confidence ≥ 0.5 is not given to leads that came out below 0 dB (issue 15,
docs/notes/issue-15.md, part 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from digitize.calibrate import Calibration
from digitize.consistency import RepeatCheck, crossing_share
from digitize.labels import LabelRead
from digitize.layout import Layout
from digitize.orient import Orientation
from digitize.physics import FAIL_RESIDUAL, PASS_RESIDUAL, LimbCheck
from digitize.trace import RowTrace

FULL_COVERAGE = 0.9
"""Share of a lead's time window the trace must span for full confidence; less scales the confidence down (a cut-off
print, or a layout read wrongly)."""

PHYSICS_BROKEN = 0.3
"""Confidence factor of a limb lead whose every Einthoven/Goldberger identity fails (wrong name or polarity)."""

PHYSICS_UNCERTAIN = 0.6
"""Confidence factor of a limb lead with an identity between :data:`PASS_RESIDUAL` and :data:`FAIL_RESIDUAL` (was
0.75: on foreign val + kit-dev 3 of 55 such leads were below 0 dB, all still claimed at 0.53–0.59)."""

NO_LABEL_CAP = 1.0
"""Highest confidence of a lead whose printed label was not read, on an image where labels were read elsewhere."""

TOUCH_MM = 1.0
"""Distance (mm) within which two rows' paths count as touching (:attr:`LeadEvidence.touching`)."""

TOUCH_FREE, TOUCH_FULL = 0.02, 0.05
"""Touching share up to which a lead keeps its confidence, and from which it gets :data:`TOUCH_FACTOR` (linear
between). Foreign val + kit-dev (1,240 leads): of the leads touching > 0.05, 4 of 4 came out below 0 dB; of those
> 0.02, 6 of 10."""

TOUCH_FACTOR = 0.4
"""Confidence factor of a lead whose path runs on a neighbouring row's trace (see :data:`TOUCH_FREE`)."""

QUALITY_CAP = 1.0
"""A lead's confidence is at most the image's quality times this (a lead is not trusted more than the page it is
read from). On foreign val (150) + kit-dev (36), with the other caps: leads below 0 dB still claimed 8 at 1.1, 4 at
1.0, of 35; right leads (≥ 3 dB) losing their claim 67 and 98 of 2,038."""

REPEAT_FREE, REPEAT_FULL = 0.6, 0.9
"""Disagreement (:attr:`digitize.consistency.RepeatCheck.residual`) between the two prints of a lead (a rhythm strip
and its grid panel) up to which the lead keeps its confidence, and from which it gets :data:`REPEAT_FACTOR` (linear
between)."""

REPEAT_FACTOR = 0.4
"""Confidence factor of a lead whose two prints disagree (one of them followed the wrong ink)."""

GRID_SKEW_FREE, GRID_SKEW_FULL = 0.01, 0.02
"""Relative difference between the grid's x and y spacing (px/mm) after rectification up to which the scale is
trusted, and from which the image quality gets :data:`GRID_SKEW_FACTOR` (linear between). ECG paper is ruled in
squares, so after rectification the two spacings agree; when they do not, a spacing was misread or the page is still
distorted, and the time axis drifts (0.25 s over 10 s at 2.5 %). Foreign val: 149 of 150 images ≤ 0.1 %; the
one above (2.4 %, two grids of different colour) read every lead at 0–5 dB with quality 0.72. kit-dev photos
reach 1.5–11 % at 3–11 dB."""

GRID_SKEW_FACTOR = 0.65
"""Quality factor of an image whose grid is not square (see :data:`GRID_SKEW_FREE`)."""

PRECORDIAL_MIN_R = 0.4
"""A chest lead whose path crosses a neighbouring row's path *and* whose best correlation with its neighbouring chest
leads (:func:`digitize.consistency.precordial_fit`) is below this gets :data:`CROSSED_FACTOR`: its strokes may be
the other row's. Foreign val (150) + kit-dev (36): this flags 19 leads, 5 below 0 dB (the one of them claimed,
v0003 V4 at 0.94, was the only lead below 0 dB still claimed on val) and 11 right ones (≥ 3 dB), 7 of them claimed.
Either sign alone is common: crossing paths flag 93 leads (82 right), r < 0.35 flags 70 (56 right)."""

CROSSED_FACTOR = 0.45
"""Confidence factor of a chest lead that crosses a neighbouring row and does not fit its neighbours."""

ORIENTATION_PENALTY = 0.85
"""Quality factor when the page was turned on weak evidence (a wrong turn reads the leads wrongly)."""


@dataclass(frozen=True)
class LeadEvidence:
    """What a lead's confidence is made of (all shares 0–1)."""

    on_ink: float
    strength: float
    covered: float
    raw: float
    """Trace-quality score: on ink × strength × scale source × coverage (before the identity evidence)."""
    physics: str
    """"pass", "uncertain", "broken" (limb leads with a simultaneous partner) or "none"."""
    label: str
    """"agrees", "disagrees" (the printed label reads another lead) or "none" (not found or not read)."""
    label_factor: float = 1.0
    """Factor from :func:`digitize.identity.assign_leads` (a label against the final name, or the name against every
    template)."""
    touching: float = 0.0
    """Share of the panel's columns where the path runs within :data:`TOUCH_MM` of a neighbouring row's path (tall
    complexes of close rows: the path may have followed the neighbour's trace)."""
    repeat: float | None = None
    """For a lead printed twice: the disagreement of its two prints (:class:`digitize.consistency.RepeatCheck`);
    None when printed once."""
    crossing: float = 0.0
    """Share of the panel's columns where its path lies beyond a neighbouring row's path."""
    precordial_r: float | None = None
    """Chest leads: best correlation with the neighbouring chest leads (None: no simultaneous neighbour)."""

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


def touching_share(traces: Sequence[RowTrace], row: int, x0: float, x1: float, limit_px: float) -> float:
    """Share of the columns ``[x0, x1)`` where row ``row``'s path lies within ``limit_px`` of row ``row ± 1``'s."""
    columns = np.arange(np.ceil(x0), np.floor(x1))
    mine = traces[row]
    if columns.size == 0 or mine.x.size < 2:
        return 0.0
    y = np.interp(columns, mine.x, mine.y, left=np.nan, right=np.nan)
    close = np.zeros(columns.size, dtype=bool)
    for other in (row - 1, row + 1):
        if 0 <= other < len(traces) and traces[other].x.size >= 2:
            theirs = np.interp(columns, traces[other].x, traces[other].y, left=np.nan, right=np.nan)
            close |= np.abs(y - theirs) < limit_px
    return float(close.mean())


def label_verdicts(layout: Layout, labels: Sequence[LabelRead]) -> dict[str, str]:
    """Per lead: "agrees" when a label read next to one of its panels names it, "disagrees" when labels were read
    there but none names it, else "none"."""
    verdict: dict[str, str] = {}
    for read in labels:
        if read.lead is None or read.panel >= len(layout.panels):
            continue
        lead = layout.panels[read.panel].lead
        if read.lead == lead:
            verdict[lead] = "agrees"
        else:
            verdict.setdefault(lead, "disagrees")
    return verdict


def lead_confidences(
    traces: list[RowTrace],
    layout: Layout,
    calibration: Calibration,
    *,
    limbs: LimbCheck | None = None,
    labels: Sequence[LabelRead] = (),
    label_factors: dict[str, tuple[float, str]] | None = None,
    repeats: dict[str, RepeatCheck] | None = None,
    precordial: dict[str, float] | None = None,
    evidence_out: dict[str, LeadEvidence] | None = None,
) -> tuple[dict[str, float], dict[str, tuple[str, ...]]]:
    """Per-lead confidence (0–1) and the reasons it is not 1.

    From how much of the path ran on ink, how strong it was, the calibration, for the limb leads the
    Einthoven/Goldberger check (:mod:`digitize.physics`), the printed labels, for a lead printed twice whether its
    prints agree (``repeats``, :func:`digitize.consistency.repeat_checks`), and for chest leads whose path crosses a
    neighbouring row's whether they fit their neighbouring chest leads (``precordial``,
    :func:`digitize.consistency.precordial_fit`). A lead printed twice is judged by the print the record keeps (the
    last panel: a rhythm strip over its grid panel). ``evidence_out``, when given, receives every lead's
    :class:`LeadEvidence`.
    """
    repeats = repeats or {}
    precordial = precordial or {}
    verdicts = limbs.lead_verdicts() if limbs is not None else {}
    label_of = label_verdicts(layout, labels)
    factors = label_factors or {}
    scale_factor = {"grid": 1.0, "pulse": 0.8, "assumed": 0.4}.get(calibration.source, 0.5)
    confidence: dict[str, float] = {}
    reasons: dict[str, tuple[str, ...]] = {}
    for panel in layout.panels:
        trace = traces[panel.row]
        inside = (trace.x >= panel.x_start) & (trace.x < panel.x_end)
        why: list[str] = []
        if not inside.any():
            if panel.lead not in confidence:
                confidence[panel.lead], reasons[panel.lead] = 0.0, ("panel outside the traced area",)
            continue
        on_ink = float(trace.on_ink[inside].mean())
        strength = float(trace.strength[inside].mean())
        traced_from, traced_to = float(trace.x[inside].min()), float(trace.x[inside].max())
        covered = (min(traced_to, panel.x_end) - max(traced_from, panel.x_start)) / (panel.x_end - panel.x_start)
        if covered < FULL_COVERAGE:
            why.append(f"trace covers only {100 * covered:.0f} % of the lead's time window (print cut off?)")
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
        raw = on_ink * (0.6 + 0.4 * min(1.0, strength / 0.8)) * scale_factor * min(1.0, covered / FULL_COVERAGE)
        if calibration.pulse_mm is None and calibration.source == "grid":
            raw *= 0.9
        score = raw
        broken, why_physics = verdicts.get(panel.lead, (False, ""))
        physics = "broken" if broken else "uncertain" if why_physics else "pass"
        physics = physics if panel.lead in verdicts else "none"
        if why_physics:
            why.append(why_physics)
            score *= PHYSICS_BROKEN if broken else PHYSICS_UNCERTAIN
        touching = touching_share(traces, panel.row, panel.x_start, panel.x_end, TOUCH_MM * calibration.px_per_mm_y)
        if touching > TOUCH_FREE:
            share = min(1.0, (touching - TOUCH_FREE) / (TOUCH_FULL - TOUCH_FREE))
            score *= 1.0 - (1.0 - TOUCH_FACTOR) * share
            why.append(f"path runs on a neighbouring row's trace over {100 * touching:.0f} % (may follow it)")
        factor, why_label = factors.get(panel.lead, (1.0, ""))
        if why_label:
            why.append(why_label)
            score *= factor
        repeat = repeats.get(panel.lead)
        if repeat is not None and repeat.residual > REPEAT_FREE:
            share = min(1.0, (repeat.residual - REPEAT_FREE) / (REPEAT_FULL - REPEAT_FREE))
            score *= 1.0 - (1.0 - REPEAT_FACTOR) * share
            why.append(f"printed twice, and the two prints disagree over {repeat.start_s:.1f}–{repeat.end_s:.1f} s "
                       f"(residual {repeat.residual:.2f}, r {repeat.r:.2f}): one followed the wrong ink")
        crossing = crossing_share(traces, panel.row, panel.x_start, panel.x_end)
        fit = precordial.get(panel.lead)
        if crossing > 0 and fit is not None and fit < PRECORDIAL_MIN_R:
            score *= CROSSED_FACTOR
            why.append(f"path crosses a neighbouring row's trace and the lead is unlike its neighbouring chest leads "
                       f"(best r {fit:.2f}): its strokes may be the other row's")
        evidence = LeadEvidence(
            round(on_ink, 3), round(strength, 3), round(float(covered), 3), round(float(raw), 3), physics,
            label_of.get(panel.lead, "none"), factor, round(touching, 3),
            None if repeat is None else round(repeat.residual, 3), round(crossing, 3),
            None if fit is None else round(fit, 3),
        )
        # a lead printed twice (rhythm strip): the record keeps the last print, so that one is judged
        confidence[panel.lead] = round(float(np.clip(score, 0.0, 1.0)), 3)
        reasons[panel.lead] = tuple(why)
        if evidence_out is not None:
            evidence_out[panel.lead] = evidence
    return confidence, reasons


def image_quality(
    confidence: dict[str, float],
    calibration: Calibration,
    layout: Layout,
    geometry: str,
    rotation_deg: float,
    orientation: Orientation,
    limbs: LimbCheck | None = None,
) -> tuple[float, tuple[str, ...]]:
    """Overall quality (0–1) from the leads' confidences, the grid, the limb physics and the orientation, with the
    notes behind it."""
    notes = [orientation.note, f"layout {layout.template}", f"geometry: {geometry}, rotation {rotation_deg:+.1f}°"]
    notes.extend(calibration.notes)
    notes.extend(layout.notes)
    quality = float(np.mean(list(confidence.values()))) if confidence else 0.0
    if calibration.source == "grid":
        quality *= 0.7 + 0.3 * min(1.0, calibration.grid_strength / 0.3)
        skew = grid_skew(calibration)
        if skew > GRID_SKEW_FREE:
            share = min(1.0, (skew - GRID_SKEW_FREE) / (GRID_SKEW_FULL - GRID_SKEW_FREE))
            quality *= 1.0 - (1.0 - GRID_SKEW_FACTOR) * share
            notes.append(
                f"grid not square: {calibration.px_per_mm_x:.2f} px/mm along x, {calibration.px_per_mm_y:.2f} along "
                f"y ({100 * skew:.1f} %): scale and time axis uncertain"
            )
    if limbs is not None and limbs.checked:
        notes.append("limb-lead physics: " + ", ".join(f"{k} residual {v:.2f}" for k, v in limbs.residuals.items()))
        if limbs.score >= FAIL_RESIDUAL:
            quality *= PHYSICS_BROKEN
        elif limbs.score > PASS_RESIDUAL:
            quality *= PHYSICS_UNCERTAIN
    if not orientation.confident and (orientation.quarter_turns or "direction unclear" in orientation.note):
        quality *= ORIENTATION_PENALTY
    return round(quality, 3), tuple(notes)


def grid_skew(calibration: Calibration) -> float:
    """Relative difference of the grid's x and y spacing (0 for a square grid)."""
    x, y = calibration.px_per_mm_x, calibration.px_per_mm_y
    return abs(x / y - 1.0) if x > 0 and y > 0 else 0.0


def cap_by_quality(
    confidence: dict[str, float], reasons: dict[str, tuple[str, ...]], quality: float
) -> tuple[dict[str, float], dict[str, tuple[str, ...]]]:
    """Every lead's confidence capped at :data:`QUALITY_CAP` × the image's quality, with the reason where it bites."""
    cap = QUALITY_CAP * quality
    capped, why = dict(confidence), dict(reasons)
    for lead, value in confidence.items():
        if value > cap:
            capped[lead] = round(cap, 3)
            why[lead] = reasons.get(lead, ()) + (f"capped by the image's quality ({quality:.2f})",)
    return capped, why
