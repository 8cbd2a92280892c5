"""Frontal-plane electrical axes (P, QRS, T) from the limb leads' net areas.

Einthoven's model: a frontal heart vector ``(x, y)`` (x towards lead I, y towards aVF, i.e. downwards) projects on
the limb leads as ``I = x``, ``II = x/2 + √3/2·y``, ``III = −x/2 + √3/2·y``, ``aVR = −3/4·x − √3/4·y``,
``aVL = 3/4·x − √3/4·y``, ``aVF = √3/2·y`` (Goldberger's augmented leads). The vector is fitted by least squares to
the net areas of the limb leads that are present, and the axis is its angle in degrees (−180, 180], 0° pointing to
lead I and +90° to aVF (AHA/ACC/HRS 2009, Surawicz et al., Circulation 119:e235).
"""

from __future__ import annotations

import numpy as np

from ecg.record import LEADS

_R3 = np.sqrt(3.0)
_PROJECTION = {
    "I": (1.0, 0.0),
    "II": (0.5, _R3 / 2),
    "III": (-0.5, _R3 / 2),
    "aVR": (-0.75, -_R3 / 4),
    "aVL": (0.75, -_R3 / 4),
    "aVF": (0.0, _R3 / 2),
}
LIMB_LEADS = tuple(_PROJECTION)


def frontal_axis(areas: dict[str, float], min_magnitude: float = 1e-6) -> float | None:
    """Axis (degrees) of the frontal vector fitted to ``{limb lead: net area}``; ``None`` when undetermined.

    At least two limb leads with independent directions are needed (any two of them are, except none). The
    vector's magnitude must exceed ``min_magnitude`` (same units as the areas) or the axis is indeterminate.
    """
    names = [n for n in LIMB_LEADS if n in areas and np.isfinite(areas[n])]
    if len(names) < 2:
        return None
    matrix = np.array([_PROJECTION[n] for n in names])
    values = np.array([areas[n] for n in names])
    if np.linalg.matrix_rank(matrix) < 2:
        return None
    (x, y), *_ = np.linalg.lstsq(matrix, values, rcond=None)
    if np.hypot(x, y) < min_magnitude:
        return None
    angle = float(np.degrees(np.arctan2(y, x)))
    return 180.0 if angle == -180.0 else angle


def net_areas(waves: np.ndarray, level: np.ndarray, start: int, stop: int, fs: float) -> dict[str, float]:
    """Net area (mV·ms) of every limb lead between samples ``start`` and ``stop``, relative to ``level`` per lead."""
    out = {}
    for name in LIMB_LEADS:
        i = LEADS.index(name)
        seg = waves[i, start:stop] - level[i]
        if stop > start and np.isfinite(seg).all() and np.isfinite(level[i]):
            out[name] = float(seg.sum() * 1000.0 / fs)
    return out
