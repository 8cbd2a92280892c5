"""What a printed-then-digitized record looks like, applied to true signals: print masks and digitization errors.

Training only (numpy). A true 10 s record becomes what the digitizer would return from a print of it:

* :func:`print_mask`: the leads' plotted windows of a print layout (NaN elsewhere), drawn from the layouts seen in
  ECG-Image-Kit and clinical prints: 3×4 + lead II rhythm strip (most), 3×4 with another rhythm lead (V1/V5) or none
  or three rhythm strips, 6×2 as ECG-Image-Kit draws it (every lead's first 5 s), 6×2 limb/chest halves, 12×1
  (full 10 s);
* :func:`digitization_errors`: amplitude scale (whole record and per lead), baseline wander, white noise,
  smoothing (a blurred trace), small time shifts per lead, a few ms of time-scale error, gaps (NaN runs), whole
  leads lost, and clipping where a trace ran into the neighbouring row.

Leads are never swapped or inverted: a bundle branch block is defined by which leads show what.
"""

from __future__ import annotations

import numpy as np

from ecg.record import LEADS

COLUMNS = (("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"))
LAYOUTS = ("3x4+II", "3x4+V1", "3x4+V5", "3x4", "3x4+3", "6x2kit", "6x2kit+II", "6x2", "12x1")
LAYOUT_P = (0.52, 0.06, 0.04, 0.04, 0.04, 0.06, 0.1, 0.04, 0.1)


def print_mask(n: int, layout: str) -> np.ndarray:
    """Boolean ``(12, n)``: which samples of a 10 s record (``n`` samples) a print of ``layout`` shows."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
    mask = np.zeros((len(LEADS), n), dtype=bool)
    if layout.startswith("3x4"):
        width = n // 4
        for c, names in enumerate(COLUMNS):
            for name in names:
                mask[LEADS.index(name), c * width : (c + 1) * width] = True
        rhythm = {"3x4+II": ("II",), "3x4+V1": ("V1",), "3x4+V5": ("V5",), "3x4": (), "3x4+3": ("II", "V1", "V5")}
        for name in rhythm[layout]:
            mask[LEADS.index(name)] = True
    elif layout.startswith("6x2kit"):
        mask[:, : n // 2] = True
        if layout.endswith("+II"):
            mask[LEADS.index("II")] = True
    elif layout == "6x2":
        mask[:6, : n // 2] = True
        mask[6:, n // 2 :] = True
        mask[LEADS.index("II")] = True
    else:
        mask[:] = True
    return mask


def _smooth(row: np.ndarray, k: int) -> np.ndarray:
    kernel = np.ones(k) / k
    return np.convolve(row, kernel, mode="same")


def digitization_errors(signals: np.ndarray, fs: float, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Errors a digitizer makes, on fully recorded ``(12, n)`` mV signals (before masking); returns a new array.

    ``strength`` scales every probability and amplitude (0 = none, 1 = training default).
    """
    out = np.array(signals, dtype=np.float32, copy=True)
    n = out.shape[1]
    if strength <= 0:
        return out
    s = strength
    t = np.arange(n) / fs
    if rng.random() < 0.3 * s:  # time-scale error of the page calibration (±3 %)
        factor = 1.0 + rng.uniform(-0.03, 0.03) * s
        source = np.clip(t * factor, 0, t[-1])
        out = np.stack([np.interp(source, t, row) for row in out]).astype(np.float32)
    out *= np.float32(np.exp(rng.normal(0.0, 0.15 * s)))
    out *= np.exp(rng.normal(0.0, 0.06 * s, (len(LEADS), 1))).astype(np.float32)
    for i in range(len(LEADS)):
        if rng.random() < 0.3 * s:
            shift = int(rng.integers(-5, 6) * fs / 250.0)
            out[i] = np.roll(out[i], shift)
        if rng.random() < 0.3 * s:
            out[i] = _smooth(out[i], int(rng.integers(2, 5) * fs / 250.0) + 1)
    if rng.random() < 0.5 * s:
        freq = rng.uniform(0.05, 0.6, (len(LEADS), 1))
        amp = rng.uniform(0.0, 0.15 * s, (len(LEADS), 1))
        out += (amp * np.sin(2 * np.pi * freq * t[None, :] + rng.uniform(0, 2 * np.pi, (len(LEADS), 1)))).astype(
            np.float32
        )
    if rng.random() < 0.7 * s:
        out += rng.normal(0.0, rng.uniform(0.0, 0.025 * s), out.shape).astype(np.float32)
    if rng.random() < 0.15 * s:
        limit = rng.uniform(1.2, 2.5)
        out = np.clip(out, -limit, limit)
    for i in range(len(LEADS)):
        if rng.random() < 0.1 * s:
            start = int(rng.integers(0, n))
            out[i, start : start + int(rng.uniform(0.05, 0.5) * fs)] = np.nan
        if rng.random() < 0.02 * s:
            out[i] = np.nan
    return out


def printed_record(
    signals: np.ndarray, fs: float, rng: np.random.Generator, *, strength: float = 1.0, layout: str | None = None
) -> np.ndarray:
    """True ``(12, n)`` mV → what the digitizer returns from a print: errors, then the layout's mask (NaN outside).

    ``layout`` is drawn from :data:`LAYOUTS` with :data:`LAYOUT_P` when not given.
    """
    layout = layout or str(rng.choice(LAYOUTS, p=LAYOUT_P))
    out = digitization_errors(signals, fs, rng, strength)
    out[~print_mask(out.shape[1], layout)] = np.nan
    return out
