"""Measuring a record read back from an image: trust only the leads the digitizer is sure of.

:func:`analyze.measure` judges a record by its signal alone, so on a digitized image a lead traced along the wrong
ink looks like any other lead, and a QRS axis fitted through it comes out at full confidence. Here the digitizer's
per-lead confidence (0–1, :mod:`digitize.confidence`) and the image's quality enter twice:

1. **What is measured from.** Leads below :data:`UNTRUSTED` are left out (set to NaN) when enough remain — at least
   :data:`MIN_TRUSTED_LEADS` leads, two of them limb leads — otherwise the whole record is measured and step 2 says
   how little that is worth.
2. **How sure each value is.** Every measurement's confidence is capped by the read-back evidence it rests on: the
   QRS, P and T axes by the mean confidence of the limb leads measured, the heart rate by the best lead's (one
   well-read lead gives the rate), the intervals (PR, QRS, QT, QTc) by the image's quality.

A signal record (no digitization) is measured as it is. The waveform-feature classifier keeps reading the plain
:func:`analyze.measure` output (its training rows were measured that way); the report, the statements and the
screening gate use this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from analyze.measure import Measurements, measure
from ecg.errors import EcgInputError
from ecg.record import LEADS, EcgRecord

UNTRUSTED = 0.5
"""Lead confidence below which a lead is not measured from (the report's "low confidence" limit)."""
MIN_TRUSTED_LEADS = 3
"""Fewest trusted leads (two of them limb leads) for measuring from the trusted leads only."""
LIMB_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF")
AXES = ("p_axis_deg", "qrs_axis_deg", "t_axis_deg")
RATE = ("heart_rate_bpm", "rr_mean_ms", "rr_sdnn_ms")
INTERVALS = ("pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms")


def trusted_leads(lead_confidence: Mapping[str, float], threshold: float = UNTRUSTED) -> tuple[str, ...]:
    """Leads read with confidence ≥ ``threshold``, in :data:`ecg.record.LEADS` order."""
    return tuple(lead for lead in LEADS if lead_confidence.get(lead, 0.0) >= threshold)


def measure_read_back(
    record: EcgRecord,
    lead_confidence: Mapping[str, float],
    quality: float,
    plain: Measurements | None = None,
) -> tuple[Measurements, tuple[str, ...]]:
    """Measurements of a digitized ``record`` and the leads they were measured from (see the module docstring).

    ``lead_confidence``: the digitizer's confidence per lead (0–1); ``quality``: the image's overall quality (0–1);
    ``plain``: ``analyze.measure(record)`` when the caller has it already (reused unless leads are left out).
    Raises :class:`ecg.errors.EcgInputError` when the record cannot be measured at all.
    """
    trusted = trusted_leads(lead_confidence)
    recorded = tuple(lead for lead, row in zip(LEADS, record.signals, strict=True) if np.isfinite(row).any())
    used = recorded
    measured = None
    if set(trusted) < set(recorded) and _enough(trusted):
        signals = record.signals.copy()
        for k, lead in enumerate(LEADS):
            if lead not in trusted:
                signals[k] = np.nan
        try:
            measured = measure(replace(record, signals=signals))
            used = tuple(lead for lead in recorded if lead in trusted)
        except EcgInputError:
            measured = None
    if measured is None:
        measured = plain if plain is not None else measure(record)
    return replace(measured, confidence=capped(measured.confidence, lead_confidence, quality, used)), used


def capped(
    confidence: Mapping[str, float], lead_confidence: Mapping[str, float], quality: float, used: tuple[str, ...]
) -> dict[str, float]:
    """``confidence`` with each value capped by the read-back confidence of the leads it rests on (see above)."""
    limb = [lead_confidence.get(lead, 0.0) for lead in used if lead in LIMB_LEADS]
    limb_cap = float(np.mean(limb)) if limb else 0.0
    best = max((lead_confidence.get(lead, 0.0) for lead in used), default=0.0)
    out = dict(confidence)
    for key, value in confidence.items():
        if key in AXES:
            out[key] = min(value, limb_cap)
        elif key in RATE:
            out[key] = min(value, best)
        elif key in INTERVALS:
            out[key] = min(value, float(quality))
    return out


def _enough(trusted: tuple[str, ...]) -> bool:
    return len(trusted) >= MIN_TRUSTED_LEADS and sum(lead in LIMB_LEADS for lead in trusted) >= 2


__all__ = ["MIN_TRUSTED_LEADS", "UNTRUSTED", "capped", "measure_read_back", "trusted_leads"]
