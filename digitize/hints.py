"""What a reader tells the digitizer about a print, overriding what it would detect: the layout, the lead shown in
each panel, the paper speed and gain, the rhythm strips' leads and leads to leave out.

Every value is checked here (:func:`DigitizeHints.create`): unknown lead names, impossible speeds or gains and a
lead list that does not fit the layout are refused with :class:`HintError` (an :class:`ecg.errors.EcgInputError`:
exit 2 on the command line, 422 on the API). The digitization records which values came from the user (calibration
source ``"user"``, and ``meta["hints"]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ecg.errors import EcgInputError
from ecg.record import LEADS

SPEED_RANGE_MM_S = (5.0, 200.0)
"""Paper speeds (mm/s) a hint may give (printers offer 5, 10, 12.5, 25, 50 and 100)."""

GAIN_RANGE_MM_MV = (1.0, 50.0)
"""Gains (mm/mV) a hint may give (printers offer 2.5, 5, 10, 20 and 40)."""

_ALIASES = {name.lower(): name for name in LEADS} | {"d1": "I", "d2": "II", "d3": "III"}


class HintError(EcgInputError):
    """A hint that cannot be used (unknown lead, impossible speed, a lead list that does not fit the layout)."""


def lead_name(text: str) -> tuple[str, float]:
    """Canonical lead name and sign of ``text`` ("avr" → aVR; "-aVR" → aVR printed inverted)."""
    raw = text.strip()
    sign = -1.0 if raw.startswith(("-", "−")) else 1.0
    key = raw.lstrip("-−").strip().lower().removeprefix("lead ").strip()
    if key not in _ALIASES:
        raise HintError(
            f"unknown lead name {text!r} in the hints; valid names: {', '.join(LEADS)} (prefix - for inverted)"
        )
    return _ALIASES[key], sign


@dataclass(frozen=True)
class DigitizeHints:
    """Reader-given facts about a print (None / empty = detect).

    Attributes
    ----------
    layout : str or None
        A template of :data:`digitize.layout.TEMPLATES` (3x4, 3x4+1, 3x4+3, 6x2, 6x2+1, 12x1, 12x1+1).
    leads : tuple of str
        The lead of every panel in reading order (row by row, left to right), rhythm strips included; "-aVR" for an
        inverted lead.
    speed_mm_s, gain_mm_mv : float or None
        Paper speed (mm/s) and gain (mm/mV).
    rhythm_leads : tuple of str
        The leads of the rhythm strips, top to bottom.
    exclude : tuple of str
        Leads to leave out of the record (confidence 0).
    rename : tuple of (str, str)
        Lead name as read → the lead it really is, applied to every panel of that name after ``leads`` (a reader's
        correction: ``(("I", "aVR"), ("aVR", "I"))`` swaps two panels).
    """

    layout: str | None = None
    leads: tuple[str, ...] = ()
    speed_mm_s: float | None = None
    gain_mm_mv: float | None = None
    rhythm_leads: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()

    @classmethod
    def create(
        cls,
        *,
        layout: str | None = None,
        leads: Iterable[str] | str | None = None,
        speed_mm_s: float | None = None,
        gain_mm_mv: float | None = None,
        rhythm_leads: Iterable[str] | str | None = None,
        exclude: Iterable[str] | str | None = None,
        rename: Iterable[tuple[str, str]] | dict[str, str] | None = None,
    ) -> DigitizeHints:
        """Validated hints; lists may be given as comma-separated text. Raises :class:`HintError`."""
        from digitize.layout import TEMPLATES

        if layout is not None and layout not in TEMPLATES:
            raise HintError(f"unknown layout {layout!r} in the hints; valid layouts: {', '.join(TEMPLATES)}")
        panel_leads = _names(leads)
        for name in panel_leads:
            lead_name(name)
        if layout is not None and panel_leads:
            expected = sum(len(row) for row in TEMPLATES[layout])
            if len(panel_leads) != expected:
                raise HintError(f"{len(panel_leads)} lead names given, but layout {layout} has {expected} panels")
        for value, (lo, hi), what, unit in (
            (speed_mm_s, SPEED_RANGE_MM_S, "paper speed", "mm/s"),
            (gain_mm_mv, GAIN_RANGE_MM_MV, "gain", "mm/mV"),
        ):
            if value is not None and not (lo <= float(value) <= hi):
                raise HintError(f"impossible {what} {value:g} {unit} in the hints (allowed {lo:g}–{hi:g} {unit})")
        rhythm = tuple(lead_name(n)[0] for n in _names(rhythm_leads))
        excluded = tuple(lead_name(n)[0] for n in _names(exclude))
        pairs = dict(rename).items() if rename else ()
        renamed = tuple((lead_name(a)[0], lead_name(b)[0]) for a, b in pairs)
        return cls(
            layout,
            tuple(panel_leads),
            None if speed_mm_s is None else float(speed_mm_s),
            None if gain_mm_mv is None else float(gain_mm_mv),
            rhythm,
            excluded,
            tuple((a, b) for a, b in renamed if a != b),
        )

    def given(self) -> dict[str, object]:
        """The hints that were set (for ``meta["hints"]``)."""
        out: dict[str, object] = {}
        for key in ("layout", "leads", "speed_mm_s", "gain_mm_mv", "rhythm_leads", "exclude"):
            value = getattr(self, key)
            if value not in (None, ()):
                out[key] = list(value) if isinstance(value, tuple) else value
        if self.rename:
            out["rename"] = dict(self.rename)
        return out


def _names(value: Iterable[str] | str | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]
