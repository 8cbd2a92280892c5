"""Apply a reader's hints (:mod:`digitize.hints`) to a digitization, and describe the result for an app
(``record.meta``: quality, per-lead confidence and reasons, layout, calibration with the source of each value)."""

from __future__ import annotations

from dataclasses import replace

from digitize.calibrate import Calibration
from digitize.hints import DigitizeHints, HintError, lead_name
from digitize.layout import Layout


def apply_hinted_scale(calibration: Calibration, hints: DigitizeHints) -> Calibration:
    """The calibration with the hinted paper speed and gain (source ``"user"``)."""
    if hints.speed_mm_s is not None:
        calibration = replace(calibration, speed_mm_s=hints.speed_mm_s, speed_source="user").with_note(
            f"paper speed {hints.speed_mm_s:g} mm/s given by the user"
        )
    if hints.gain_mm_mv is not None:
        calibration = replace(calibration, gain_mm_mv=hints.gain_mm_mv, gain_source="user").with_note(
            f"gain {hints.gain_mm_mv:g} mm/mV given by the user"
        )
    return calibration


def apply_hinted_leads(layout: Layout, hints: DigitizeHints) -> Layout:
    """The layout with the hinted lead names (every panel, reading order), rhythm-strip leads and renames.

    Raises :class:`HintError` when the count does not fit the layout found.
    """
    panels = sorted(layout.panels, key=lambda p: (p.row, p.x_start))
    if hints.leads:
        if len(hints.leads) != len(panels):
            raise HintError(
                f"{len(hints.leads)} lead names given, but the print was read as layout {layout.template} with "
                f"{len(panels)} panels; give the layout too (--layout) or as many names as panels"
            )
        named = []
        for panel, text in zip(panels, hints.leads, strict=True):
            lead, sign = lead_name(text)
            named.append(replace(panel, lead=lead, sign=sign))
        panels = named
    if hints.rhythm_leads:
        rows = sorted({p.row for p in panels})
        strips = [r for r in rows if sum(p.row == r for p in panels) == 1 and r >= 3]
        if len(hints.rhythm_leads) > len(strips):
            raise HintError(
                f"{len(hints.rhythm_leads)} rhythm leads given, but the print was read with {len(strips)} rhythm strips"
            )
        # the hinted strips are the last ones (the rhythm strips are at the bottom of the page)
        for row, lead in zip(strips[len(strips) - len(hints.rhythm_leads) :], hints.rhythm_leads, strict=True):
            panels = [replace(p, lead=lead, sign=1.0) if p.row == row else p for p in panels]
    if hints.rename:
        new_name = dict(hints.rename)
        panels = [replace(p, lead=new_name.get(p.lead, p.lead)) for p in panels]
    return replace(layout, panels=tuple(panels))


def digitization_meta(
    quality: float,
    confidence: dict[str, float],
    reasons: dict[str, tuple[str, ...]],
    layout: Layout,
    calibration: Calibration,
    hints: DigitizeHints,
) -> dict[str, object]:
    """JSON-ready ``record.meta`` entries: what an app needs without the full report."""
    meta: dict[str, object] = {
        "quality": round(float(quality), 3),
        "lead_confidence": {k: round(float(v), 3) for k, v in confidence.items()},
        "lead_reasons": {k: list(v) for k, v in reasons.items() if v},
        "layout": layout.template,
        "calibration": {
            "px_per_mm_x": round(float(calibration.px_per_mm_x), 4),
            "px_per_mm_y": round(float(calibration.px_per_mm_y), 4),
            "speed_mm_s": float(calibration.speed_mm_s),
            "gain_mm_mv": float(calibration.gain_mm_mv),
            "scale_source": calibration.source,
            "speed_source": calibration.speed_source,
            "gain_source": calibration.gain_source,
        },
    }
    if hints.given():
        meta["hints"] = hints.given()
    return meta
