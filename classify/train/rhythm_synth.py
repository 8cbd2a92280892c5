"""Beat-level rhythm synthesis: turn a real sinus-rhythm record into a *labelled synthetic* example of a rare class.

Training augmentation only (evaluation uses real records). The record is cut into beats at fixed offsets before
each R peak (``PRE_R_S``, which keeps the P wave with its QRS), the beats are re-timed and reshaped, and joined
with 20 ms cross-fades. All twelve leads share the timing. Methods (``kind=``):

* ``PAC``: one or two beats 25–40 % early with a reshaped (scaled or inverted) P wave; no compensatory pause;
* ``PVC``: one or two beats 35–45 % early, P wave removed, QRS–T widened ×1.7–2.2 with per-lead random
  amplitude/polarity, then a compensatory pause (the two R–R intervals add up to two normal ones);
* ``AESC``: a sinus pause (R–R × 1.6–2.2) ended by a beat with an inverted/flattened P wave and a shorter PR;
* ``AT``: every R–R shortened to 150–200 bpm, the P wave of every beat reshaped (ectopic atrial focus);
* ``AFIB``: P waves removed, irregular R–R (coefficient of variation 15–25 %), fibrillatory waves (4–9 Hz,
  0.03–0.1 mV, strongest in V1 and the inferior leads);
* ``AFLT``: P waves removed, regular 2:1 or 4:1 conduction of a 240–330 /min sawtooth (0.1–0.25 mV, negative in
  II, III, aVF).

Rates and shapes follow textbook criteria (e.g. Surawicz & Knilans, *Chou's Electrocardiography*, 6th ed.); they are
simplifications — the QRS–T is not physiologically re-shaped at high rates. WPW, bundle branch blocks and AESC's
true ectopic P axis are not modelled beyond what is stated.
"""

from __future__ import annotations

import numpy as np

from ecg.record import LEADS, EcgRecord

RHYTHM_KINDS = ("PAC", "PVC", "AESC", "AT", "AFIB", "AFLT")
PRE_R_S = 0.25
"""Beats start this long before their R peak (holds the P wave)."""
P_WINDOW_S = (0.22, 0.06)
"""The P wave is taken to lie between these times before the R peak (s)."""
FADE_S = 0.02
_INFERIOR_AND_V1 = ("II", "III", "aVF", "V1")


def _segments(signals: np.ndarray, r_peaks: np.ndarray, pre: int) -> list[np.ndarray]:
    """Beat k = samples [R_k − pre, R_{k+1} − pre): P, QRS, T and the diastole up to the next P."""
    return [signals[:, a - pre : b - pre].copy() for a, b in zip(r_peaks[:-1], r_peaks[1:], strict=True) if a >= pre]


def _retime(segment: np.ndarray, length: int) -> np.ndarray:
    """Shorten (cut the diastolic tail) or lengthen (hold the tail's level) a beat to ``length`` samples."""
    if length <= segment.shape[1]:
        return segment[:, :length]
    tail = segment[:, -10:].mean(axis=1, keepdims=True)
    return np.concatenate([segment, np.repeat(tail, length - segment.shape[1], axis=1)], axis=1)


def _join(segments: list[np.ndarray], fade: int) -> np.ndarray:
    """Concatenate beats, blending the last ``fade`` samples of each into the level where the next one starts."""
    out = []
    for i, seg in enumerate(segments):
        seg = seg.copy()
        if i + 1 < len(segments) and seg.shape[1] > fade:
            ramp = np.linspace(0.0, 1.0, fade)[None, :]
            seg[:, -fade:] = seg[:, -fade:] * (1 - ramp) + segments[i + 1][:, :1] * ramp
        out.append(seg)
    return np.concatenate(out, axis=1)


def _p_slice(pre: int, fs: float) -> slice:
    return slice(pre - int(P_WINDOW_S[0] * fs), pre - int(P_WINDOW_S[1] * fs))


def _reshape_p(segment: np.ndarray, pre: int, fs: float, factor: float) -> None:
    """Scale the P-wave window (relative to a straight line between its ends) by ``factor`` in place."""
    window = _p_slice(pre, fs)
    part = segment[:, window]
    line = np.linspace(part[:, :1], part[:, -1:], part.shape[1], axis=1)[..., 0]
    segment[:, window] = line + factor * (part - line)


def _widen(segment: np.ndarray, pre: int, fs: float, factor: float, gains: np.ndarray) -> np.ndarray:
    """A wide ventricular complex: QRS–T (R − 60 ms … R + 400 ms) stretched ``factor``×, gains per lead."""
    start, stop = pre - int(0.06 * fs), min(segment.shape[1], pre + int(0.40 * fs))
    body = segment[:, start:stop]
    n = int(body.shape[1] * factor)
    x = np.linspace(0, body.shape[1] - 1, n)
    stretched = np.stack([np.interp(x, np.arange(body.shape[1]), row) for row in body])
    baseline = segment[:, start : start + 1]
    wide = baseline + (stretched - baseline) * gains[:, None]
    head = np.repeat(baseline, max(0, pre - int(0.06 * fs * factor)), axis=1)  # no P wave; R stays at ``pre``
    return np.concatenate([head, wide, segment[:, stop:]], axis=1)


def _fibrillation(n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    """Fibrillatory baseline waves (12 × n mV): four 4–9 Hz sinusoids, strongest in V1 and the inferior leads."""
    t = np.arange(n) / fs
    wave = np.zeros(n)
    for _ in range(4):
        wave += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * rng.uniform(4.0, 9.0) * t + rng.uniform(0, 2 * np.pi))
    wave *= rng.uniform(0.03, 0.10) / max(np.abs(wave).max(), 1e-6)
    weights = np.array([1.0 if lead in _INFERIOR_AND_V1 else 0.4 for lead in LEADS])[:, None]
    return weights * wave[None, :]


def _flutter(n: int, fs: float, rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Flutter sawtooth (12 × n mV) at ``rate_hz``: negative in II, III, aVF, smaller elsewhere."""
    t = np.arange(n) / fs
    phase = (t * rate_hz + rng.uniform()) % 1.0
    saw = np.where(phase < 0.8, phase / 0.8, (1.0 - phase) / 0.2) - 0.5  # slow down-slope, quick return
    amplitude = rng.uniform(0.1, 0.25)
    signs = np.array([-1.0 if lead in ("II", "III", "aVF") else 0.5 if lead == "V1" else 0.25 for lead in LEADS])
    return amplitude * signs[:, None] * saw[None, :]


def synthesize_rhythm(record: EcgRecord, kind: str, rng: np.random.Generator, r_peaks: np.ndarray) -> EcgRecord:
    """A new record of the same length showing ``kind`` (see the module docstring), built from ``record``'s beats.

    Parameters
    ----------
    record : EcgRecord
        A fully recorded sinus-rhythm record (no NaN), e.g. a PTB-XL NORM record at 500 Hz.
    kind : str
        One of :data:`RHYTHM_KINDS`.
    r_peaks : ndarray
        R-peak sample indices of ``record`` (at least 4).
    """
    if kind not in RHYTHM_KINDS:
        raise ValueError(f"unknown rhythm {kind!r}; valid: {', '.join(RHYTHM_KINDS)}")
    fs, n = record.fs, record.n_samples
    pre = int(PRE_R_S * fs)
    beats = _segments(np.nan_to_num(record.signals.astype(np.float64)), np.asarray(r_peaks), pre)
    if len(beats) < 3:
        raise ValueError("need at least 4 R peaks to re-time beats")
    rr = float(np.median([b.shape[1] for b in beats]))
    out: list[np.ndarray] = []
    total, k = 0, 0
    first = int(rng.integers(2, 5))
    special = {first} if rng.random() < 0.5 else {first, first + int(rng.integers(2, 4))}  # never adjacent
    pending_pause = 0
    p_factor = rng.choice([-1.0, -0.5, 0.3, 1.8])
    flutter_hz = rng.uniform(4.0, 5.5)
    conduction = int(rng.choice([2, 4], p=[0.7, 0.3]))
    gains = rng.uniform(0.8, 1.6, len(LEADS)) * rng.choice([-1.0, 1.0], len(LEADS))
    widen = rng.uniform(1.7, 2.2)
    cv = rng.uniform(0.15, 0.25)
    at_rr = fs * 60.0 / rng.uniform(150, 200)
    while total < n + pre:
        beat = beats[k % len(beats)].copy()
        length = beat.shape[1]
        index = len(out)
        if kind in ("AFIB", "AFLT"):
            _reshape_p(beat, pre, fs, 0.0)
            if kind == "AFIB":
                length = int(np.clip(rng.normal(rr * rng.uniform(0.6, 0.9), cv * rr), 0.35 * fs, 1.6 * fs))
            else:
                length = int(round(conduction * fs / flutter_hz))
        elif kind == "AT":
            _reshape_p(beat, pre, fs, p_factor)
            length = int(at_rr)
        elif index in special and kind == "PAC":
            _reshape_p(beat, pre, fs, p_factor)
            out[-1] = _retime(out[-1], int(out[-1].shape[1] * rng.uniform(0.6, 0.75)))
        elif index in special and kind == "PVC":
            early = int(out[-1].shape[1] * rng.uniform(0.55, 0.65))
            pending_pause = 2 * int(rr) - early
            out[-1] = _retime(out[-1], early)
            beat = _widen(beat, pre, fs, widen, gains)
            length = pending_pause
        elif index in special and kind == "AESC":
            out[-1] = _retime(out[-1], int(rr * rng.uniform(1.6, 2.2)))
            _reshape_p(beat, pre, fs, rng.choice([-0.8, -0.4, 0.2]))
        out.append(_retime(beat, max(length, int(0.3 * fs))))
        total = sum(seg.shape[1] for seg in out)  # earlier beats may have been re-timed above
        k += 1
    signals = _join(out, int(FADE_S * fs))[:, pre : pre + n]
    if kind == "AFIB":
        signals = signals + _fibrillation(n, fs, rng)
    elif kind == "AFLT":
        signals = signals + _flutter(n, fs, flutter_hz, rng)
    meta = {**record.meta, "synthetic_rhythm": kind, "source": record.meta.get("source", "")}
    return EcgRecord(signals.astype(np.float32), fs=fs, meta=meta)
