"""Canonical "screenshot" of a 12-lead record for the RGB-tiled ResNet (patent CN110507311A, claims 3–4).

The tiled classifier does not look at the photographed page: it looks at a clean re-rendering of what the
digitizer recovered (or of a signal record), drawn at one fixed scale, black traces on white, no grid, no text:

* layout 3×4 + rhythm strip: rows ``I aVR V1 V4`` / ``II aVL V2 V5`` / ``III aVF V3 V6`` (lead in column *c* shows
  the time window ``[2.5 c, 2.5 c + 2.5)`` s), a fourth row with one lead over the full 10 s (lead II when it is
  there, else the lead with the most data);
* page ``3·S × S`` px for 10 s (``S`` = :data:`CANONICAL_SIZE`, 448: 134 px/s, a 100 ms QRS spans ≈ 13 px),
  ``S/4`` px per row, 0.4 s of x per mV (the paper's 10 mm/mV at 25 mm/s), each slot's median removed, clipped to
  ±:data:`CLIP_MV`;
* then the patent's tiling: three equal time tiles (10/3 s each) into R, G, B (:func:`classify.tiling.rgb_tiles`).

Records digitized from other print layouts are redistributed into the same picture by one rule (so that a 6×2
print, which in ECG-Image-Kit shows every lead's *first* 5 s, or a 12×1 print, gives the same kind of picture):
a slot shows its lead's samples in the slot's own window when at least half of them are there, otherwise the first
2.5 s of the lead's longest recorded stretch, wherever it lies. The network is trained on true signals masked the
way prints are and put through this renderer (:mod:`classify.train.canonical_data`), so training and serving share
this code. Only numpy and OpenCV (serving code, no torch).
"""

from __future__ import annotations

import cv2
import numpy as np

from ecg.errors import EcgInputError
from ecg.record import LEADS, EcgRecord

CANONICAL_SIZE = 448
"""Side (px) of each of the three tiles; the network input is ``(3, CANONICAL_SIZE, CANONICAL_SIZE)``."""
PAGE_SECONDS = 10.0
COLUMN_SECONDS = 2.5
GRID_ROWS: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
"""The 3×4 part of the page (row by row); column *c* is the time window ``[2.5 c, 2.5 c + 2.5)`` s."""
RHYTHM_PREFERENCE = ("II", "V1", "V5", "I", "III", "aVF")
"""Rhythm-strip lead: the first of these with ≥ :data:`RHYTHM_MIN_FRACTION` of 10 s recorded, else the lead with
the most samples (ties in this order, then :data:`ecg.record.LEADS` order)."""
RHYTHM_MIN_FRACTION = 0.6
SLOT_MIN_FRACTION = 0.5
CLIP_MV = 3.0
MV_PER_ROW = 2.0
"""Vertical scale: one row is this many mV high (``S/4`` px)."""


def _finite_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in a 1-D boolean array."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def rhythm_lead(signals: np.ndarray, fs: float) -> int | None:
    """Row index of the lead drawn over the full 10 s (see :data:`RHYTHM_PREFERENCE`); ``None`` for an empty record."""
    n = min(signals.shape[1], int(round(PAGE_SECONDS * fs)))
    counts = np.isfinite(signals[:, :n]).sum(axis=1)
    for name in RHYTHM_PREFERENCE:
        if counts[LEADS.index(name)] >= RHYTHM_MIN_FRACTION * PAGE_SECONDS * fs:
            return LEADS.index(name)
    if counts.max() == 0:
        return None
    order = sorted(range(len(LEADS)), key=lambda i: (-counts[i], _preference(LEADS[i])))
    return order[0]


def _preference(name: str) -> int:
    return RHYTHM_PREFERENCE.index(name) if name in RHYTHM_PREFERENCE else len(RHYTHM_PREFERENCE) + LEADS.index(name)


def slot_samples(row: np.ndarray, fs: float, column: int) -> np.ndarray:
    """The samples (mV, NaN gaps kept) a lead shows in 3×4 column ``column``: its own window when half of it is
    recorded, else the first 2.5 s of its longest recorded stretch (other print layouts); empty when none."""
    width = int(round(COLUMN_SECONDS * fs))
    window = row[column * width : (column + 1) * width]
    if window.size and np.isfinite(window).sum() >= SLOT_MIN_FRACTION * width:
        return window
    runs = _finite_runs(np.isfinite(row))
    if not runs:
        return row[:0]
    start, stop = max(runs, key=lambda r: r[1] - r[0])
    return row[start : min(stop, start + width)]


def _draw(page: np.ndarray, samples: np.ndarray, fs: float, x0: float, y_mid: float, px_per_s: float) -> None:
    """Draw one trace (NaN = pen up) with its median at ``y_mid``; positive mV goes up."""
    finite = np.isfinite(samples)
    if finite.sum() < 2:
        return
    px_per_mv = page.shape[0] / 4.0 / MV_PER_ROW
    values = np.clip(np.where(finite, samples - np.median(samples[finite]), 0.0), -CLIP_MV, CLIP_MV)
    x = x0 + np.arange(samples.size) * (px_per_s / fs)
    y = y_mid - values * px_per_mv
    shift = 4  # sub-pixel precision of cv2.polylines (2**4)
    points = np.round(np.stack([x, y], axis=1) * (1 << shift)).astype(np.int32)
    runs = [points[a:b] for a, b in _finite_runs(finite) if b - a >= 2]
    if runs:
        cv2.polylines(page, runs, isClosed=False, color=0, thickness=1, lineType=cv2.LINE_AA, shift=shift)


def render_page(signals: np.ndarray, fs: float, size: int = CANONICAL_SIZE) -> np.ndarray:
    """The canonical page: ``uint8`` grey ``(size, 3·size)``, white background, black traces (module docstring).

    Parameters
    ----------
    signals : ndarray, shape (12, n)
        Millivolts in :data:`ecg.record.LEADS` order, NaN where not recorded (only the first 10 s are drawn).
    fs : float
        Sampling rate (Hz).
    size : int
        Tile side (px); the page is ``size`` high and ``3·size`` wide.
    """
    signals = np.asarray(signals, dtype=np.float32)
    if signals.ndim != 2 or signals.shape[0] != len(LEADS):
        raise EcgInputError(f"signals must have shape (12, n); got {signals.shape}")
    if fs <= 0:
        raise EcgInputError(f"sampling rate must be positive; got {fs}")
    signals = signals[:, : int(round(PAGE_SECONDS * fs))]
    page = np.full((size, 3 * size), 255, dtype=np.uint8)
    px_per_s = 3 * size / PAGE_SECONDS
    row_height = size / 4.0
    for r, names in enumerate(GRID_ROWS):
        for c, name in enumerate(names):
            samples = slot_samples(signals[LEADS.index(name)], fs, c)
            _draw(page, samples, fs, c * COLUMN_SECONDS * px_per_s, (r + 0.5) * row_height, px_per_s)
    lead = rhythm_lead(signals, fs)
    if lead is not None:
        _draw(page, signals[lead], fs, 0.0, 3.5 * row_height, px_per_s)
    return page


def canonical_tiles(signals: np.ndarray, fs: float, size: int = CANONICAL_SIZE) -> np.ndarray:
    """The tiled classifier's input from a record's signals: ``uint8`` ``(3, size, size)``, channel *k* = time tile
    *k* of :func:`render_page` (tile 1 → R, 2 → G, 3 → B)."""
    page = render_page(signals, fs, size)
    return np.stack([page[:, k * size : (k + 1) * size] for k in range(3)], axis=0)


def record_tiles(record: EcgRecord, size: int = CANONICAL_SIZE) -> np.ndarray:
    """:func:`canonical_tiles` of an :class:`~ecg.record.EcgRecord` (e.g. the digitizer's output)."""
    return canonical_tiles(record.signals, float(record.fs), size)


def tiles_to_rgb(tiles: np.ndarray) -> np.ndarray:
    """The three tiles side by side as an RGB picture ``(S, 3·S, 3)`` (for reports and saliency overlays)."""
    page = np.concatenate(list(tiles), axis=1)
    return np.repeat(page[:, :, None], 3, axis=2)
