"""Degrade a true 12-lead signal the way printing and digitization degrade it (training data of the waveform
classifier, :mod:`classify.train.waveform`).

What a digitized record looks like, and what each step imitates:

=====================  ==================================================================================
step                   imitates
=====================  ==================================================================================
print mask             only the plotted windows survive: 3×4+1 (each lead 2.5 s in its column, a 10 s rhythm
                       strip of II, sometimes V1 or V5, sometimes another column order), 6×2 (5 s) + rhythm,
                       12×1 (10 s); NaN elsewhere (the ECG-Image-Kit windows of ``/work/foreign``)
time-scale jitter      a grid pitch misread by ±2 % (resampled, then cut back to 10 s)
amplitude jitter       gain misread (±6 % for the page) and per-lead scale errors (±4 %)
smoothing              Savitzky–Golay / thick traces: Gaussian blur of 0–3 samples
quantisation           one pixel of ink is 0.005–0.03 mV at the usual print settings
noise, wander          trace jitter (0–25 µV) and a slow baseline drift (0.05–0.5 Hz, 0–0.15 mV)
clipping               a trace cut where it runs into the next row (±1.5–3 mV, 20 % of records)
lost lead              a lead the digitizer could not follow (5 % of leads NaN)
=====================  ==================================================================================
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import resample

from ecg.record import LEADS, EcgRecord

LAYOUTS: tuple[str, ...] = ("3x4+1", "6x2+1", "12x1")
LAYOUT_WEIGHTS: tuple[float, ...] = (0.70, 0.15, 0.15)
_COLUMNS_3X4 = (("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"))


def print_mask(n_samples: int, layout: str, rng: np.random.Generator) -> np.ndarray:
    """Boolean ``(12, n_samples)``: which samples of each lead a printout of ``layout`` shows."""
    mask = np.zeros((len(LEADS), n_samples), dtype=bool)
    index = {name: i for i, name in enumerate(LEADS)}
    if layout == "12x1":
        mask[:] = True
        return mask
    if layout == "6x2+1":
        mask[:, : n_samples // 2] = True
        mask[index["II"]] = True
        return mask
    if layout != "3x4+1":
        raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
    columns = list(_COLUMNS_3X4)
    if rng.random() < 0.15:  # ECG-Image-Kit's other lead orders: the limb leads shuffled across the first columns
        limb = list(columns[0] + columns[1])
        rng.shuffle(limb)
        columns[0], columns[1] = tuple(limb[:3]), tuple(limb[3:])
    width = n_samples // 4
    for c, leads in enumerate(columns):
        for name in leads:
            mask[index[name], c * width : (c + 1) * width] = True
    rhythm = rng.choice(["II", "V1", "V5"], p=[0.75, 0.15, 0.10])
    mask[index[str(rhythm)]] = True
    return mask


def degrade(record: EcgRecord, rng: np.random.Generator, layout: str | None = None) -> EcgRecord:
    """A copy of ``record`` (10 s, any fs) degraded as the module docstring says; ``layout`` drawn when ``None``."""
    x = np.nan_to_num(record.signals.astype(np.float64), nan=0.0)
    n = x.shape[1]
    # time scale: resample to n·s samples and keep the first n (pad by edge values when shorter)
    scale = 1.0 + rng.uniform(-0.02, 0.02)
    m = max(8, int(round(n * scale)))
    x = resample(x, m, axis=1)
    x = x[:, :n] if m >= n else np.pad(x, ((0, 0), (0, n - m)), mode="edge")
    x *= rng.normal(1.0, 0.06) * rng.normal(1.0, 0.04, size=(x.shape[0], 1))
    sigma = rng.uniform(0.0, 3.0)
    if sigma > 0.3:
        x = gaussian_filter1d(x, sigma, axis=1)
    t = np.arange(n) / record.fs
    wander = rng.uniform(0, 0.15, size=(x.shape[0], 1)) * np.sin(
        2 * np.pi * rng.uniform(0.05, 0.5, size=(x.shape[0], 1)) * t + rng.uniform(0, 2 * np.pi, size=(x.shape[0], 1))
    )
    x = x + wander + rng.normal(0, rng.uniform(0, 0.025), size=x.shape)
    step = rng.uniform(0.005, 0.03)
    x = np.round(x / step) * step
    if rng.random() < 0.2:
        limit = rng.uniform(1.5, 3.0)
        x = np.clip(x, -limit, limit)
    layout = layout or str(rng.choice(LAYOUTS, p=LAYOUT_WEIGHTS))
    mask = print_mask(n, layout, rng)
    lost = rng.random(len(LEADS)) < 0.05
    mask[lost] = False
    mask &= np.isfinite(record.signals)
    out = np.where(mask, x, np.nan).astype(np.float32)
    return EcgRecord(out, record.fs, {**record.meta, "degraded_layout": layout})


__all__ = ["LAYOUTS", "degrade", "print_mask"]
