"""Beat and atrial-rhythm statements: premature ventricular / atrial beats, bigeminy, trigeminy, atrial flutter
and atrial tachycardia (criteria in :mod:`analyze.codes`; beat features in :mod:`analyze.ectopy`, atrial rate in
:mod:`analyze.atrial`). Each rule returns the :class:`analyze.statement.Finding` with the values that fired it.

A beat is classified (:func:`classify_beats`) as

* ``V`` (premature ventricular): early (RR before < :data:`EARLY_ECTOPIC` of the cycle) with a QRS unlike the
  dominant one (multi-lead correlation < :data:`DIFFERENT_QRS`, or < :data:`SAME_QRS` and ≥ :data:`WIDER_MS`
  wider);
  or premature with a full compensatory pause (RR before + after within 10 % of two cycles) and no P wave like
  the sinus one before it — where only one lead is read, the shape may not tell;
* ``A`` (premature atrial / supraventricular): premature, a QRS like the dominant one (≥ :data:`SAME_QRS`) and a
  RR before that is also short against the previous RR (sinus arrhythmia shortens the cycle gradually). The pause
  is reported but not required: on LUDB's PAC records (7, 60, 66, 78) coupling + pause is 1.74–1.93 cycles, too
  close to a full compensatory pause to tell them apart;
* ``N`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analyze import codes as C
from analyze.ectopy import BeatFeatures
from analyze.measure import Measurements
from analyze.sinus import sinus_p
from analyze.statement import Finding

PREMATURE = 0.85
"""A beat is premature when its RR before is below this fraction of the underlying cycle ..."""
EARLY_ECTOPIC = 0.92
"""... a QRS of another morphology counts as premature ventricular below this (a late-coupled PVC)."""
PREMATURE_LOCAL = 0.88
"""... and (for a supraventricular beat) below this fraction of the RR before it."""
DIFFERENT_QRS = 0.80
"""Multi-lead QRS correlation with the dominant template below which a QRS is of another morphology."""
SAME_QRS = 0.90
"""Correlation at or above which a QRS is of the dominant morphology."""
WIDER_MS = 20.0
"""A QRS this much wider (ms) than the dominant one is wide for its record."""
COMPENSATORY = 0.10
"""RR before + RR after within this fraction of two cycles: a full compensatory pause."""
SINUS_P = 0.5
"""Correlation of the window before a beat with the sinus P wave at or above which the beat has a sinus P."""


def premature_beats(m: Measurements, c: C.Criteria, fired: set[str]) -> list[Finding]:
    """PVC (with BIGU / TRIGU) and PAC statements from the per-beat classification."""
    if not m.beats:
        return []
    types = classify_beats(m.beats)
    out = []
    ventricular = [b for b, t in zip(m.beats, types, strict=True) if t == "V"]
    if ventricular:
        out.append(_pvc(m, types, ventricular))
        rhythm = pattern(types, "V")
        if rhythm:
            code = "BIGU" if rhythm == "bigeminy" else "TRIGU"
            every = "every second" if rhythm == "bigeminy" else "every third"
            out.append(Finding(code, f"Ventricular {rhythm}: {every} beat is a premature ventricular beat, "
                               f"{len(ventricular)} of {len(types)} beats (sequence {types}).",
                               {"pattern": types, "ectopic_beats": len(ventricular), "beats": len(types)}))
    atrial = [b for b, t in zip(m.beats, types, strict=True) if t == "A"]
    if atrial and not fired & {"AFIB", "AFLT"}:
        out.append(_pac(m, types, atrial))
    return out


def _pvc(m: Measurements, types: str, beats: list[BeatFeatures]) -> Finding:
    coupling = _median([b.rr_before for b in beats])
    corr = _median([b.qrs_correlation for b in beats])
    wider = _median([b.qrs_wider_ms for b in beats])
    pauses = [b.rr_before + b.rr_after for b in beats if b.rr_before is not None and b.rr_after is not None]
    pause = _median(pauses)
    cycle = m.cycle_ms or 0.0
    words = [f"{len(beats)} of {len(types)} beats",
             f"coupled at {coupling * cycle:.0f} ms ({100 * coupling:.0f} % of the {cycle:.0f} ms cycle)"]
    if corr is not None and corr < 0.8:
        words.append(f"QRS of another shape (correlation {corr:.2f} with the dominant beat)")
    if wider is not None and wider >= 10:
        words.append(f"{wider:.0f} ms wider")
    if pause is not None:
        full = abs(pause - 2) <= 0.1
        words.append(f"{'full' if full else 'no full'} compensatory pause (coupling + pause {pause:.2f} cycles)")
    return Finding("PVC", "Premature ventricular beats: " + "; ".join(words) + ".",
                   {"ectopic_beats": len(beats), "beats": len(types), "pattern": types,
                    "coupling_ratio": _round(coupling), "qrs_correlation": _round(corr),
                    "qrs_wider_ms": _round(wider), "pause_cycles": _round(pause), "cycle_ms": _round(cycle)})


def _pac(m: Measurements, types: str, beats: list[BeatFeatures]) -> Finding:
    coupling = _median([b.rr_before for b in beats])
    pauses = [b.rr_before + b.rr_after for b in beats if b.rr_before is not None and b.rr_after is not None]
    pause = _median(pauses)
    cycle = m.cycle_ms or 0.0
    text = (f"Premature atrial beats: {len(beats)} of {len(types)} beats, coupled at {coupling * cycle:.0f} ms "
            f"({100 * coupling:.0f} % of the {cycle:.0f} ms cycle) with the usual QRS")
    if pause is not None and abs(pause - 2.0) <= 2.0 * COMPENSATORY:  # what a ventricular beat would leave
        text += (f"; but a full compensatory pause (coupling + pause {pause:.2f} cycles): premature ventricular "
                 "beats are not excluded")
    elif pause is not None:
        text += f"; the pause does not compensate fully (coupling + pause {pause:.2f} cycles)"
    return Finding("PAC", text + ".", {"ectopic_beats": len(beats), "beats": len(types), "pattern": types,
                                       "coupling_ratio": _round(coupling), "pause_cycles": _round(pause),
                                       "cycle_ms": _round(cycle)})


def atrial_flutter(m: Measurements, c: C.Criteria) -> Finding | None:
    if m.atrial_concentration is None or m.atrial_rate_bpm is None:
        return None
    if m.atrial_concentration < c.flutter_concentration or sinus_p(m, c):
        return None
    ratio = m.atrial_rate_bpm / m.heart_rate_bpm if m.heart_rate_bpm else None
    conduction = f", about {ratio:.0f}:1 conduction" if ratio and abs(ratio - round(ratio)) < 0.15 else ""
    return Finding("AFLT", f"Atrial flutter: regular atrial waves at {m.atrial_rate_bpm:.0f} /min in the inferior "
                   f"leads and V1 ({100 * m.atrial_concentration:.0f} % of their power at that rate), ventricular "
                   f"rate {m.heart_rate_bpm:.0f} /min{conduction}.",
                   {"atrial_rate_bpm": _round(m.atrial_rate_bpm), "atrial_concentration":
                    _round(m.atrial_concentration), "heart_rate_bpm": m.heart_rate_bpm})


def atrial_tachycardia(m: Measurements, c: C.Criteria, fired: set[str]) -> Finding | None:
    rate = m.heart_rate_bpm
    if rate is None or rate <= c.at_rate_bpm or fired & {"AFIB", "AFLT"} or m.rr_irregularity is None:
        return None
    if m.rr_irregularity >= c.irregular_rr or (m.qrs_ms is not None and m.qrs_ms > c.qrs_wide_ms):
        return None
    sinus_axis = m.p_axis_deg is not None and c.p_axis_min_deg <= m.p_axis_deg <= c.p_axis_max_deg
    if m.p_wave_present and m.p_axis_deg is not None and not sinus_axis:
        why = f"P axis {m.p_axis_deg:.0f}° (not sinus)"
    elif not m.p_wave_present and rate >= c.at_no_p_rate_bpm:
        why = "no distinct P wave"
    else:
        return None
    return Finding("AT", f"Atrial tachycardia: regular narrow-complex rhythm at {rate:.0f} /min, {why}.",
                   {"heart_rate_bpm": rate, "p_axis_deg": m.p_axis_deg, "p_wave_present": m.p_wave_present,
                    "rr_irregularity": m.rr_irregularity})


def classify_beats(features: Sequence[BeatFeatures]) -> str:
    """One letter per beat: ``V`` premature ventricular, ``A`` premature atrial, ``N`` other (module docstring)."""
    out = []
    for f in features:
        out.append(_classify(f))
    return "".join(out)


def _classify(f: BeatFeatures) -> str:
    if f.rr_before is None or f.rr_after is None or f.qrs_correlation is None:
        return "N"  # the first and last beats: no coupling or no pause to judge (and filter edges distort them)
    wider = f.qrs_wider_ms is not None and f.qrs_wider_ms >= WIDER_MS
    if (f.qrs_correlation < DIFFERENT_QRS or (wider and f.qrs_correlation < SAME_QRS)) and f.rr_before < EARLY_ECTOPIC:
        return "V"
    if f.rr_before >= PREMATURE:
        return "N"
    full_pause = f.rr_after is not None and abs(f.rr_before + f.rr_after - 2) <= 2 * COMPENSATORY
    sinus_p = f.p_correlation is not None and f.p_correlation >= SINUS_P
    if full_pause and not sinus_p and f.qrs_correlation < SAME_QRS:
        return "V"
    if f.qrs_correlation >= SAME_QRS and f.rr_local is not None and f.rr_local < PREMATURE_LOCAL:
        return "A"
    return "N"


def pattern(types: str, ectopic: str) -> str | None:
    """``"bigeminy"`` when at least 3 ``ectopic`` beats alternate with single other beats, ``"trigeminy"`` when at
    least 3 follow every second other beat; ``None`` otherwise."""
    positions = [k for k, t in enumerate(types) if t == ectopic]
    for gap, name in ((2, "bigeminy"), (3, "trigeminy")):
        run = best = 1
        for a, b in zip(positions, positions[1:], strict=False):
            run = run + 1 if b - a == gap else 1
            best = max(best, run)
        if len(positions) >= 3 and best >= 3:
            return name
    return None


def _median(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.median(finite)) if finite else None


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)
