"""ISSUE-19 SHIM — minimal user hints for :func:`digitize.pipeline.digitize_image`, to be replaced at merge time by
issue 15's typed hints and lead assignment. Everything the digitizer does with a hint is in this one module.

A hints object is read duck-typed (``report.corrections.Hints`` is the one this project passes), every attribute
optional / None when unset:

* ``layout`` (str) — forced template (``digitize_image``'s ``template``);
* ``speed_mm_s``, ``gain_mm_mv`` (float) — override the calibration's paper speed and gain;
* ``leads`` (sequence of str) — the lead name of every panel in reading order (rows top to bottom, left to right,
  rhythm strips last); must match the layout's panel count;
* ``rename`` (pairs or mapping: lead name → the lead it really is) — applied to every panel of that name, after
  ``leads``;
* ``rhythm_leads`` (sequence of str) — the leads of the rhythm strips, top to bottom;
* ``exclude`` (sequence of str) — leads dropped from the record (their panels are not read).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from digitize.calibrate import Calibration
from digitize.layout import Layout
from ecg.errors import EcgInputError


def hint_layout_template(hints: Any, template: str | None) -> str | None:
    """The template to force: the hint's layout, else the caller's ``template``."""
    return getattr(hints, "layout", None) or template


def hint_calibration(calibration: Calibration, hints: Any) -> Calibration:
    """``calibration`` with the user's speed and gain (mm/s, mm/mV).

    With a measured grid the pixel scale stays and px/s, px/mV follow the new speed and gain. Without a grid (scale
    from the calibration pulse: 0.2 s wide, 1 mV tall) px/s and px/mV are what the pulse measured, so the px/mm
    scale is adjusted instead.
    """
    if hints is None:
        return calibration
    speed, gain = getattr(hints, "speed_mm_s", None), getattr(hints, "gain_mm_mv", None)
    out = calibration
    notes = []
    if speed and float(speed) != out.speed_mm_s:
        if out.source == "pulse":
            out = replace(out, px_per_mm_x=out.px_per_mm_x * out.speed_mm_s / float(speed))
        out = replace(out, speed_mm_s=float(speed))
    if gain and float(gain) != out.gain_mm_mv:
        if out.source == "pulse":
            out = replace(out, px_per_mm_y=out.px_per_mm_y * out.gain_mm_mv / float(gain))
        out = replace(out, gain_mm_mv=float(gain))
    if speed:
        notes.append(f"paper speed {float(speed):g} mm/s set by the user")
    if gain:
        notes.append(f"gain {float(gain):g} mm/mV set by the user")
    new_notes = tuple(n for n in notes if n not in out.notes)
    return replace(out, notes=out.notes + new_notes) if new_notes else out


def hint_layout(layout: Layout, hints: Any) -> Layout:
    """``layout`` with the user's lead names per panel, rhythm-strip leads and excluded leads applied."""
    if hints is None:
        return layout
    panels = list(layout.panels)
    notes = list(layout.notes)
    leads = getattr(hints, "leads", None)
    if leads:
        if len(leads) != len(panels):
            raise EcgInputError(
                f"{len(leads)} lead names given but layout {layout.template} has {len(panels)} panels "
                "(name every panel in reading order, rhythm strips last)"
            )
        panels = [replace(p, lead=name) for p, name in zip(panels, leads, strict=True)]
        notes.append("lead names set by the user: " + ", ".join(leads))
    rename = dict(getattr(hints, "rename", None) or ())
    if rename:
        panels = [replace(p, lead=rename.get(p.lead, p.lead)) for p in panels]
        notes.append("leads renamed by the user: " + ", ".join(f"{a} → {b}" for a, b in rename.items()))
    rhythm = getattr(hints, "rhythm_leads", None)
    if rhythm:
        strips = sorted({p.row for p in panels if p.row >= 3}) if layout.template in ("3x4+1", "3x4+3") else []
        if not strips:
            raise EcgInputError(f"layout {layout.template} has no rhythm strip to name")
        named = dict(zip(strips[-len(rhythm):], rhythm, strict=False))
        panels = [replace(p, lead=named[p.row]) if p.row in named else p for p in panels]
        if named:
            notes.append("rhythm strip lead(s) set by the user: " + ", ".join(named.values()))
    exclude = set(getattr(hints, "exclude", None) or ())
    if exclude:
        panels = [p for p in panels if p.lead not in exclude]
        notes.append("leads excluded by the user: " + ", ".join(sorted(exclude)))
        if not panels:
            raise EcgInputError("every lead was excluded; keep at least one")
    return replace(layout, panels=tuple(panels), notes=tuple(notes))
