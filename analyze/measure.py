"""`measure`: global intervals, rate, axes and per-lead amplitudes of a 12-lead record.

Pipeline (as clinical measurement programs do it; AHA/ACC/HRS 2007, Kligfield et al., Circulation 115:1306):
NeuroKit2 cleaning of every lead → R peaks by consensus of the long leads → median beat per lead over the dominant
beats → global fiducials on the median beats (:mod:`analyze.delineate`) → intervals, axes and amplitudes.
QTc by Bazett (QT/√RR) and Fridericia (QT/∛RR), RR in seconds: the underlying cycle (median over beats of the
mean of the two RR intervals around each beat), which is the median RR in a regular rhythm and the sinus cycle
in a bigeminy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analyze.atrial import atrial_activity
from analyze.axis import frontal_axis, net_areas
from analyze.beats import Beats, MedianBeats, clean_signals, detect_beats, median_beats, rhythm_leads
from analyze.confidence import confidences
from analyze.delineate import Fiducials, Method, delineate
from analyze.ectopy import BeatFeatures, beat_features
from analyze.errors import TooFewBeatsError
from analyze.morphology import LeadMorphology, delta_ratio, lead_morphology
from analyze.rhythm import p_wave_consistency
from ecg.record import LEADS, EcgRecord

INTERVAL_KEYS = (
    "heart_rate_bpm",
    "rr_mean_ms",
    "rr_sdnn_ms",
    "pr_ms",
    "qrs_ms",
    "qt_ms",
    "qtc_bazett_ms",
    "qtc_fridericia_ms",
    "p_axis_deg",
    "qrs_axis_deg",
    "t_axis_deg",
)
"""The headline measurements, in the order of the JSON output (ms / bpm / degrees)."""


@dataclass(frozen=True)
class Measurements:
    """Global measurements of one record (``None`` when not measurable; ``missing`` says why).

    Intervals in ms, rate in beats per minute, axes in degrees (frontal plane, −180…180). ``leads`` holds the
    per-lead amplitudes of the median beats; ``r_peaks`` the QRS fiducials (sample indices at ``fs``).
    ``confidence`` is 0–1 per headline measurement (:mod:`analyze.confidence`): low where the value may be grossly
    wrong (few beats or leads, leads disagreeing on the T end, a barely visible P wave, a value failing a
    physiological check).
    """

    heart_rate_bpm: float | None = None
    rr_mean_ms: float | None = None
    rr_sdnn_ms: float | None = None
    pr_ms: float | None = None
    qrs_ms: float | None = None
    qt_ms: float | None = None
    qtc_bazett_ms: float | None = None
    qtc_fridericia_ms: float | None = None
    p_axis_deg: float | None = None
    qrs_axis_deg: float | None = None
    t_axis_deg: float | None = None
    rr_irregularity: float | None = None
    """Median absolute successive RR difference over the median RR, ectopic beats left out (0 regular; AF > 0.1)."""
    p_wave_present: bool | None = None
    p_wave_consistency: float | None = None
    """Median correlation of each beat's P-wave window with their median (about 1 for sinus rhythm)."""
    leads: dict[str, LeadMorphology] = field(default_factory=dict)
    beats: tuple[BeatFeatures, ...] = ()
    """Per-beat timing and QRS shape (:mod:`analyze.ectopy`), for the premature-beat statements."""
    cycle_ms: float | None = None
    """Underlying cycle: median over beats of the mean of the RR intervals around each beat (ms)."""
    atrial_rate_bpm: float | None = None
    """Dominant rate of the atrial activity between the QRS complexes, 210–390 /min (:mod:`analyze.atrial`)."""
    atrial_concentration: float | None = None
    """Share of the QRS-blanked 2–12 Hz power at that rate (flutter waves > 0.3; sinus rhythm about 0.1)."""
    delta_ratio: float | None = None
    """Mean spatial velocity of the first 30 ms of the QRS over its peak (a slurred delta-wave onset is low)."""
    r_peaks: tuple[int, ...] = ()
    beat_count: int = 0
    dominant_beat_count: int = 0
    fs: float = 500.0
    rhythm_leads: tuple[str, ...] = ()
    method: str = "spatial"
    confidence: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def lead(self, name: str) -> LeadMorphology | None:
        """Morphology of one lead, or ``None`` when the lead was not measured."""
        return self.leads.get(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: headline keys first, then rhythm details, per-lead amplitudes and bookkeeping."""
        out: dict[str, Any] = {k: _round(getattr(self, k)) for k in INTERVAL_KEYS}
        out["rr_irregularity"] = _round(self.rr_irregularity, 3)
        out["p_wave_present"] = self.p_wave_present
        out["p_wave_consistency"] = _round(self.p_wave_consistency, 3)
        out["beat_count"] = self.beat_count
        out["dominant_beat_count"] = self.dominant_beat_count
        out["r_peaks"] = [int(r) for r in self.r_peaks]
        out["fs"] = self.fs
        out["rhythm_leads"] = list(self.rhythm_leads)
        out["method"] = self.method
        out["leads"] = {name: m.to_dict() for name, m in self.leads.items()}
        out["beats"] = [b.to_dict() for b in self.beats]
        out["cycle_ms"] = _round(self.cycle_ms)
        out["atrial_rate_bpm"] = _round(self.atrial_rate_bpm)
        out["atrial_concentration"] = _round(self.atrial_concentration, 3)
        out["delta_ratio"] = _round(self.delta_ratio, 3)
        out["confidence"] = {k: round(v, 2) for k, v in self.confidence.items()}
        out["missing"] = dict(self.missing)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurements:
        """Inverse of :meth:`to_dict` (extra keys are ignored)."""
        names = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["leads"] = {n: LeadMorphology(**m) for n, m in data.get("leads", {}).items()}
        kwargs["r_peaks"] = tuple(data.get("r_peaks", ()))
        kwargs["beats"] = tuple(BeatFeatures(**b) for b in data.get("beats", ()))
        kwargs["rhythm_leads"] = tuple(data.get("rhythm_leads", ()))
        return cls(**kwargs)


def measure(record: EcgRecord, *, method: Method = "spatial") -> Measurements:
    """Measure a 12-lead record globally (see the module docstring).

    Parameters
    ----------
    record : EcgRecord
        Any sampling rate; leads may be partial (3×4 printouts) as long as one lead is recorded for ≥ 4 s.
    method : {"spatial", "dwt", "cwt", "peak", "prominence"}
        Delineation method (:func:`analyze.delineate.delineate`).

    Raises
    ------
    analyze.errors.UnmeasurableRecordError
        (an :class:`ecg.errors.EcgInputError`) when the record is too short, has no long lead or too few beats.
    """
    fs = record.fs
    clean = clean_signals(record)
    leads = rhythm_leads(record, clean)
    beats = detect_beats(clean, fs, leads)
    if len(beats.r_peaks) < 2:
        raise TooFewBeatsError(
            f"found {len(beats.r_peaks)} beat(s) in {', '.join(beats.rhythm_leads)}; at least 2 are needed to measure"
        )
    rr = np.diff(beats.r_peaks) / fs
    median = median_beats(clean, fs, beats)
    rr_median = float(np.median(rr))
    fid = delineate(median, rr_median, method=method)
    full_band = median_beats(clean_signals(record, powerline=False), fs, beats)
    return _assemble(record, clean, beats, median, full_band, fid, rr, method)


def _assemble(
    record: EcgRecord,
    clean: np.ndarray,
    beats: Beats,
    median: MedianBeats,
    full_band: MedianBeats,
    fid: Fiducials,
    rr: np.ndarray,
    method: str,
) -> Measurements:
    """Intervals from the fiducials; axes and amplitudes from the high-pass-only median beats (``full_band``)."""
    fs = record.fs
    to_ms = 1000.0 / fs
    missing = {}
    values: dict[str, float | None] = dict.fromkeys(INTERVAL_KEYS)
    rr_mean = float(np.mean(rr))
    values["rr_mean_ms"] = rr_mean * 1000
    values["heart_rate_bpm"] = 60.0 / rr_mean
    values["rr_sdnn_ms"] = float(np.std(rr, ddof=1)) * 1000 if len(rr) >= 2 else None
    if values["rr_sdnn_ms"] is None:
        missing["rr_sdnn_ms"] = "fewer than 3 beats"
    irregularity = _rr_irregularity(rr, beats.dominant)

    if fid.qrs_on is not None and fid.qrs_off is not None:
        values["qrs_ms"] = (fid.qrs_off - fid.qrs_on) * to_ms
    else:
        missing["qrs_ms"] = fid.missing.get("qrs_on") or fid.missing.get("qrs_off") or "QRS not delineated"
    if fid.qrs_on is not None and fid.p_on is not None:
        values["pr_ms"] = (fid.qrs_on - fid.p_on) * to_ms
    else:
        missing["pr_ms"] = fid.missing.get("p_on") or fid.missing.get("qrs_on") or "P wave not delineated"
    if fid.qrs_on is not None and fid.t_off is not None:
        qt_s = (fid.t_off - fid.qrs_on) / fs
        values["qt_ms"] = qt_s * 1000
        # the underlying cycle, not the median RR: in bigeminy the median RR is a coupling interval or a pause
        rr_s = float(np.median((rr[:-1] + rr[1:]) / 2)) if len(rr) >= 2 else float(rr[0])
        values["qtc_bazett_ms"] = qt_s / np.sqrt(rr_s) * 1000
        values["qtc_fridericia_ms"] = qt_s / np.cbrt(rr_s) * 1000
    else:
        reason = fid.missing.get("t_off") or fid.missing.get("qrs_on") or "T wave end not delineated"
        for key in ("qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms"):
            missing[key] = reason

    level = _pr_levels(full_band, fid.qrs_on)
    if fid.qrs_on is not None and fid.qrs_off is not None:
        values["qrs_axis_deg"] = frontal_axis(net_areas(full_band.waves, level, fid.qrs_on, fid.qrs_off + 1, fs))
    p_span = (fid.p_on, fid.qrs_on - int(0.02 * fs)) if fid.p_on is not None and fid.qrs_on is not None else None
    if p_span:
        values["p_axis_deg"] = frontal_axis(net_areas(full_band.waves, level, *p_span, fs))
    t_span = None
    if fid.t_off is not None and fid.qrs_off is not None:
        t_start = fid.qrs_off + (fid.t_off - fid.qrs_off) // 3
        t_span = (t_start, fid.t_off)
        values["t_axis_deg"] = frontal_axis(net_areas(full_band.waves, level, *t_span, fs))
    for key in ("p_axis_deg", "qrs_axis_deg", "t_axis_deg"):
        if values[key] is None and key not in missing:
            missing[key] = "wave not delineated or limb leads missing"

    leads = {}
    if fid.qrs_on is not None and fid.qrs_off is not None:
        leads = lead_morphology(full_band, fid.qrs_on, fid.qrs_off, p_span, t_span)
    consistency = p_wave_consistency(clean, beats, median, fid) if fid.p_peak is not None else None
    p_window = None
    if fid.p_peak is not None and fid.qrs_on is not None:
        p_window = (fid.p_peak - int(0.06 * fs) - median.r_index, fid.qrs_on - int(0.02 * fs) - median.r_index)
    per_beat, cycle = beat_features(clean, beats, median, p_window)
    atrial_rate, concentration = atrial_activity(clean, beats.r_peaks, fs)
    delta = delta_ratio(median, fid.qrs_on, fid.qrs_off) if fid.qrs_on is not None and fid.qrs_off else None
    return Measurements(
        **{k: _round(v) for k, v in values.items()},
        rr_irregularity=irregularity,
        p_wave_present=fid.p_on is not None,
        p_wave_consistency=consistency,
        leads=leads,
        beats=per_beat,
        cycle_ms=None if cycle is None else cycle * 1000,
        atrial_rate_bpm=atrial_rate,
        atrial_concentration=concentration,
        delta_ratio=delta,
        r_peaks=tuple(int(r) for r in beats.r_peaks),
        beat_count=len(beats.r_peaks),
        dominant_beat_count=int(beats.dominant.sum()),
        fs=fs,
        rhythm_leads=beats.rhythm_leads,
        method=method,
        confidence=confidences(values, beats, median, fid, float(np.median(rr)), consistency),
        missing=missing,
    )


def _rr_irregularity(rr: np.ndarray, dominant: np.ndarray) -> float | None:
    """Median |successive RR difference| over the median RR, on runs of dominant beats.

    Successive differences that involve an ectopic (non-dominant) beat are left out, so premature beats with their
    compensatory pauses do not make a sinus rhythm look irregular; all differences are used when fewer than three
    remain. Where morphology does not tell the ectopic beats apart (one lead read, an ectopic QRS resembling the
    dominant one, e.g. bigeminy in an LBBB), beats with the timing of :func:`premature_by_timing` (at least two) are
    left out as well, but only when what remains is clearly regular (< :data:`REGULAR_AFTER_ECTOPICS`):
    fibrillation gives such pairs by chance and stays irregular. ``None`` with fewer than 4 beats.
    """
    if len(rr) < 3:
        return None
    by_morphology = _irregularity_without(rr, dominant)
    premature = premature_by_timing(rr)
    if premature.sum() < 2:  # one short-long pair happens by chance in fibrillation
        return by_morphology
    by_timing = _irregularity_without(rr, dominant & ~premature)
    return by_timing if by_timing < REGULAR_AFTER_ECTOPICS else by_morphology


REGULAR_AFTER_ECTOPICS = 0.04
"""Irregularity below which the RR left after removing premature beats counts as a regular underlying rhythm."""


def _irregularity_without(rr: np.ndarray, regular: np.ndarray) -> float:
    diffs = np.abs(np.diff(rr))
    clean = regular[:-2] & regular[1:-1] & regular[2:]  # the three beats of each RR pair
    if clean.sum() >= 3:
        diffs = diffs[clean]
        rr = rr[regular[:-1] & regular[1:]]
    return float(np.median(diffs) / np.median(rr))


def premature_by_timing(rr: np.ndarray, *, early: float = 0.9, pause_tolerance: float = 0.05) -> np.ndarray:
    """Beats (``len(rr) + 1`` flags) that come early and are followed by a full compensatory pause.

    Beat *i* ends ``rr[i-1]`` and starts ``rr[i]``; it is flagged when ``rr[i-1] < early · median``,
    ``rr[i] > median`` and ``rr[i-1] + rr[i]`` is within ``pause_tolerance`` of two median RR (the sinus node is not
    reset: the signature of a ventricular premature beat). Fibrillation gives such pairs only by chance, so the
    rest of its RR sequence stays irregular.
    """
    flags = np.zeros(len(rr) + 1, dtype=bool)
    if len(rr) < 3:
        return flags
    median = float(np.median(rr))
    before, after = rr[:-1], rr[1:]
    pause = np.abs(before + after - 2 * median) <= pause_tolerance * 2 * median
    flags[1:-1] = (before < early * median) & (after > median) & pause
    return flags


def _pr_levels(median: MedianBeats, qrs_on: int | None) -> np.ndarray:
    """Per-lead PR-segment level (mV) used as the zero of areas; NaN when the lead does not cover it."""
    if qrs_on is None:
        return np.full(len(LEADS), np.nan)
    a = max(0, qrs_on - int(0.01 * median.fs))
    seg = median.waves[:, a : qrs_on + 1]
    out = np.full(len(LEADS), np.nan)
    ok = np.isfinite(seg).all(axis=1)
    out[ok] = seg[ok].mean(axis=1)
    return out


def _round(value: float | None, digits: int = 1) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


__all__ = ["INTERVAL_KEYS", "Measurements", "measure"]
