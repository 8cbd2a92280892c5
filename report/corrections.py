"""What a reader tells the pipeline about a print: `Hints` (what the digitizer obeys) and `Correction` (one change
asked for on a finished report), their validation, how corrections add up, and how they are described.

Lead names are those of :data:`ecg.record.LEADS` (any case and common spellings, ``avr``/``AVR`` → ``aVR``);
paper speeds must lie in 10–100 mm/s and gains in 2.5–40 mm/mV (printers offer 12.5/25/50 mm/s and
5/10/20 mm/mV). Layouts are those of :data:`digitize.layout.TEMPLATES`.

`Hints.to_digitize` gives the digitizer's own :class:`digitize.hints.DigitizeHints` (``digitize_image(hints=...)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from digitize.hints import DigitizeHints
from digitize.layout import TEMPLATES
from ecg.record import LEADS, lead_name

SPEED_RANGE_MM_S = (10.0, 100.0)
GAIN_RANGE_MM_MV = (2.5, 40.0)
MAX_NOTE_CHARS = 500
MAX_PANELS = 16
"""Most panels a template has (3×4+3: 15)."""


def canonical_lead(raw: str) -> str:
    """The standard name of a lead label; `ValueError` naming the valid ones otherwise."""
    name = lead_name(raw) if isinstance(raw, str) and len(raw) <= 20 else None
    if name is None:
        shown = raw[:20] if isinstance(raw, str) else type(raw).__name__
        raise ValueError(f"unknown lead name {shown!r}; use one of {', '.join(LEADS)}")
    return name


def check_speed(value: float | None) -> float | None:
    if value is not None and not (SPEED_RANGE_MM_S[0] <= value <= SPEED_RANGE_MM_S[1]):
        raise ValueError(f"paper speed {value:g} mm/s is impossible; give {SPEED_RANGE_MM_S[0]:g}–"
                         f"{SPEED_RANGE_MM_S[1]:g} mm/s (usually 25 or 50)")
    return value


def check_gain(value: float | None) -> float | None:
    if value is not None and not (GAIN_RANGE_MM_MV[0] <= value <= GAIN_RANGE_MM_MV[1]):
        raise ValueError(f"gain {value:g} mm/mV is impossible; give {GAIN_RANGE_MM_MV[0]:g}–"
                         f"{GAIN_RANGE_MM_MV[1]:g} mm/mV (usually 5, 10 or 20)")
    return value


def check_layout(value: str | None) -> str | None:
    if value is not None and value not in TEMPLATES:
        raise ValueError(f"unknown layout {value[:20]!r}; use one of {', '.join(TEMPLATES)}")
    return value


@dataclass(frozen=True)
class Hints:
    """Settings the digitizer obeys instead of detecting them (None / empty = detect).

    ``leads``: lead name per panel in reading order (rows top to bottom, left to right, rhythm strips last);
    ``rename``: current lead name → the name it really is (applied to every panel showing it, after ``leads``);
    ``rhythm_leads``: the rhythm strips' leads, top to bottom; ``exclude``: leads not read (after renaming).
    """

    layout: str | None = None
    leads: tuple[str, ...] | None = None
    rename: tuple[tuple[str, str], ...] = ()
    speed_mm_s: float | None = None
    gain_mm_mv: float | None = None
    rhythm_leads: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_layout(self.layout)
        check_speed(self.speed_mm_s)
        check_gain(self.gain_mm_mv)
        fix = lambda names: tuple(canonical_lead(n) for n in names)  # noqa: E731
        object.__setattr__(self, "leads", fix(self.leads) if self.leads else None)
        object.__setattr__(self, "rhythm_leads", fix(self.rhythm_leads) if self.rhythm_leads else None)
        object.__setattr__(self, "exclude", tuple(sorted(set(fix(self.exclude)), key=LEADS.index)))
        pairs = tuple((canonical_lead(a), canonical_lead(b)) for a, b in dict(self.rename).items())
        object.__setattr__(self, "rename", tuple(p for p in pairs if p[0] != p[1]))
        if self.leads and len(self.leads) > MAX_PANELS:
            raise ValueError(f"{len(self.leads)} lead names given; a layout has at most {MAX_PANELS} panels")
        if len(self.exclude) == len(LEADS):
            raise ValueError("every lead excluded; keep at least one")

    @property
    def empty(self) -> bool:
        return self == Hints()

    def to_dict(self) -> dict[str, Any]:
        """The values set, JSON-ready (unset ones left out); ``rename`` as an object."""
        out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v not in (None, ())}
        if self.rename:
            out["rename"] = dict(self.rename)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hints:
        return cls(
            layout=data.get("layout"),
            leads=tuple(data["leads"]) if data.get("leads") else None,
            rename=tuple(dict(data.get("rename") or {}).items()),
            speed_mm_s=data.get("speed_mm_s"),
            gain_mm_mv=data.get("gain_mm_mv"),
            rhythm_leads=tuple(data["rhythm_leads"]) if data.get("rhythm_leads") else None,
            exclude=tuple(data.get("exclude") or ()),
        )

    def renamed(self, name: str) -> str:
        return dict(self.rename).get(name, name)

    def to_digitize(self) -> DigitizeHints:
        """The digitizer's hints (:class:`digitize.hints.DigitizeHints`) for these settings."""
        return DigitizeHints.create(
            layout=self.layout, leads=self.leads, speed_mm_s=self.speed_mm_s, gain_mm_mv=self.gain_mm_mv,
            rhythm_leads=self.rhythm_leads, exclude=self.exclude, rename=self.rename,
        )


def parse_lead_list(text: str | None) -> tuple[str, ...] | None:
    """``"I, II,aVR"`` → canonical names; `ValueError` for unknown names. None/empty → None."""
    if not text or not text.strip():
        return None
    return tuple(canonical_lead(part.strip()) for part in text.split(",") if part.strip())


class Correction(BaseModel):
    """One correction of a finished report (JSON body of ``POST /api/v1/reports/{id}/corrections``).

    Fields left out keep the previous version's setting. ``rename`` maps a panel's current lead name to the lead it
    really shows (``{"V1": "V2", "V2": "V1"}`` swaps them); ``leads`` names every panel in reading order instead.
    ``include`` takes a lead back that an earlier version excluded. ``base_version`` (optional) is the version the
    reader looked at: when a newer one exists the correction is refused with 409 instead of overwriting it.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"rename": {"V1": "V2", "V2": "V1"}, "note": "V1 and V2 swapped on this printer", "base_version": 1},
        {"speed_mm_s": 50, "gain_mm_mv": 5, "exclude": ["V3"]},
    ]})

    layout: str | None = Field(None, description="Layout template: " + ", ".join(TEMPLATES))
    rename: dict[str, str] | None = Field(None, description="Current lead name → the lead the panel really shows")
    leads: list[str] | None = Field(None, max_length=MAX_PANELS,
                                    description="Lead name of every panel in reading order (rhythm strips last)")
    speed_mm_s: float | None = Field(None, description="Paper speed (mm/s), 10–100")
    gain_mm_mv: float | None = Field(None, description="Gain (mm/mV), 2.5–40")
    rhythm_leads: list[str] | None = Field(None, max_length=3, description="Lead of each rhythm strip, top down")
    exclude: list[str] | None = Field(None, max_length=12, description="Leads not to read")
    include: list[str] | None = Field(None, max_length=12, description="Excluded leads to read again")
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS, description="Why (kept with the version)")
    base_version: int | None = Field(None, ge=1, description="The version corrected; 409 when it is not the latest")

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str | None) -> str | None:
        return check_layout(value)

    @field_validator("speed_mm_s")
    @classmethod
    def _speed(cls, value: float | None) -> float | None:
        return check_speed(value)

    @field_validator("gain_mm_mv")
    @classmethod
    def _gain(cls, value: float | None) -> float | None:
        return check_gain(value)

    @field_validator("leads", "rhythm_leads", "exclude", "include")
    @classmethod
    def _lead_names(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [canonical_lead(v) for v in value]

    @field_validator("rename")
    @classmethod
    def _rename(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if len(value) > len(LEADS):
            raise ValueError(f"at most {len(LEADS)} renames")
        return {canonical_lead(k): canonical_lead(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _something(self) -> Correction:
        fields = ("layout", "rename", "leads", "speed_mm_s", "gain_mm_mv", "rhythm_leads", "exclude", "include")
        if all(getattr(self, f) in (None, [], {}) for f in fields):
            raise ValueError("nothing to correct: give at least one of " + ", ".join(fields))
        return self


def apply_correction(previous: Hints, c: Correction) -> tuple[Hints, list[str]]:
    """The settings after ``c`` and a short description of each change (``["I ↔ aVR", "speed 50 mm/s"]``).

    A new layout drops the earlier lead names and renames (they named the old layout's panels) unless ``c``
    gives new ones. Raises `ValueError` when nothing changes.
    """
    changed: list[str] = []
    layout, leads, rename = previous.layout, previous.leads, dict(previous.rename)
    if c.layout is not None and c.layout != previous.layout:
        changed.append(f"layout {c.layout}")
        layout, leads, rename = c.layout, None, {}
    if c.leads is not None and tuple(c.leads) != leads:
        leads = tuple(c.leads)
        changed.append("lead order " + ", ".join(c.leads))
    if c.rename:
        # r1 = earlier renames (original name → current), r2 = this one (current → new): final = r2 ∘ r1
        composed = {x: c.rename.get(rename.get(x, x), rename.get(x, x)) for x in LEADS}
        new = {k: v for k, v in composed.items() if k != v}
        if new != rename:
            changed.extend(describe_renames(c.rename))
        rename = new
    speed = previous.speed_mm_s
    if c.speed_mm_s is not None and c.speed_mm_s != speed:
        speed = c.speed_mm_s
        changed.append(f"speed {speed:g} mm/s")
    gain = previous.gain_mm_mv
    if c.gain_mm_mv is not None and c.gain_mm_mv != gain:
        gain = c.gain_mm_mv
        changed.append(f"gain {gain:g} mm/mV")
    rhythm = previous.rhythm_leads
    if c.rhythm_leads is not None and tuple(c.rhythm_leads) != rhythm:
        rhythm = tuple(c.rhythm_leads) or None
        changed.append("rhythm strip " + ", ".join(c.rhythm_leads))
    exclude = set(previous.exclude)
    added = sorted(set(c.exclude or ()) - exclude, key=LEADS.index)
    back = sorted(set(c.include or ()) & exclude, key=LEADS.index)
    exclude = (exclude | set(added)) - set(back)
    changed.extend([f"{name} excluded" for name in added] + [f"{name} included again" for name in back])
    if not changed:
        raise ValueError("the correction changes nothing: these settings are already in force")
    hints = Hints(layout, leads, tuple(rename.items()), speed, gain, rhythm, tuple(exclude))
    return hints, changed


def describe_renames(rename: Mapping[str, str]) -> list[str]:
    """``{"V1": "V2", "V2": "V1", "I": "II"}`` → ``["V1 ↔ V2", "I → II"]``."""
    out, seen = [], set()
    for a, b in rename.items():
        if a in seen or a == b:
            continue
        if rename.get(b) == a:
            first, second = sorted((a, b), key=LEADS.index)
            out.append(f"{first} ↔ {second}")
            seen.update((a, b))
        else:
            out.append(f"{a} → {b}")
            seen.add(a)
    return out


def panel_boxes(layout: Any, homography: np.ndarray | None, confidence: Mapping[str, float]) -> list[dict[str, Any]]:
    """Every read panel as ``{index, lead, row, box: [x0, y0, x1, y1], confidence}``, the box in the overlay's
    (upright input) pixels: the panel's time span × one row pitch around its baseline, mapped back through
    ``homography`` (input → rectified)."""
    import cv2

    back = np.linalg.inv(homography) if homography is not None else np.eye(3)
    out = []
    half = 0.5 * float(layout.row_spacing_px)
    for index, panel in enumerate(layout.panels):
        base = float(layout.baselines[panel.row])
        corners = np.array([[[panel.x_start, base - half]], [[panel.x_end, base - half]],
                            [[panel.x_end, base + half]], [[panel.x_start, base + half]]], dtype=np.float64)
        mapped = cv2.perspectiveTransform(corners, back).reshape(-1, 2)
        x0, y0 = mapped.min(axis=0)
        x1, y1 = mapped.max(axis=0)
        out.append({"index": index, "lead": panel.lead, "row": int(panel.row),
                    "box": [round(float(v), 1) for v in (x0, y0, x1, y1)],
                    "confidence": round(float(confidence.get(panel.lead, 0.0)), 3)})
    return out


def user_set(hints: Hints | None) -> dict[str, Any]:
    """What the report lists as "set by the user"."""
    return hints.to_dict() if hints is not None else {}


def lead_list(names: Iterable[str]) -> str:
    return ", ".join(names)
