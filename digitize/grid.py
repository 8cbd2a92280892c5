"""Grid evidence and pitch: how strongly the lines layer repeats along x and y, and the pixels per mm it implies.

The grid pitch comes from the autocorrelation of the grid's projection profile, separately along x and y (photos
and scanners do not keep pixels square). The smallest strong period is then 1 mm (minor lines) or 5 mm (only major
lines visible); a minor-line grid shows every fifth line heavier, and otherwise the page width decides. A grid is
refused when the vertical lines' periodicity is weak, sparse (heartbeats) or faint (resampling noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

MIN_PX_PER_MM, MAX_PX_PER_MM = 1.5, 40.0
"""Plausible image scales (≈ 40–1000 dpi)."""

MIN_PAGE_WIDTH_MM = 120.0
"""Narrowest page (mm) a 1 mm reading of the grid may imply; narrower means the period was 5 mm."""

TYPICAL_PAGE_WIDTH_MM = 280.0
"""Printed width of a 10 s landscape ECG page (A4 / letter), used only to choose between 1 mm and 5 mm pitch."""

MIN_GRID_STRENGTH = 0.15
"""Autocorrelation at the vertical grid lines' period below which no grid is taken to be there. Measured on
DataSynth renders (``bench/grid_evidence.py``): gridded papers of every style and level 0.24–0.98, paper without a
grid 0.01–0.72 (the high values from heartbeats, which :data:`MIN_GRID_PERIODS` rejects)."""

MIN_GRID_PERIODS = 35.0
"""Fewest periods across the paper's width a grid shows: a 5 mm grid repeats ≥ 40 times on any ECG page, while
heartbeats (the other periodic thing along x) repeat 5–27 times in 10 s. Measured: grids 55–290, no grid ≤ 27 at
any strength above :data:`MIN_GRID_STRENGTH`."""

MIN_GRID_AMPLITUDE = 0.012
"""RMS darkness (0–1) of the vertical lines' periodic profile below which the periodicity is resampling noise (a
scan of blank paper, warped by rectification, showed 0.008 at a 14 px period; gridded DataSynth renders ≥ 0.017,
ECG-Image-Kit kit-dev ≥ 0.022). The horizontal lines are not required: rows of traces often hide their period."""


def grid_pitch(grid_layer: np.ndarray, axis: int, *, mask: np.ndarray | None = None) -> tuple[float, float]:
    """Period of the grid along one axis, in pixels, and its strength.

    Parameters
    ----------
    grid_layer : ndarray (H, W) float
        Darkness of grid lines (anything dark counts; traces are not periodic and average out).
    axis : int
        1 for the pitch along x (vertical grid lines), 0 for the pitch along y (horizontal lines).
    mask : ndarray (H, W) bool, optional
        Where the paper is; profiles are averaged over it only.

    Returns
    -------
    period_px : float
        Smallest strong period (one grid cell: 1 mm or 5 mm, see :func:`grid_scale`), NaN if no periodicity.
    strength : float
        Normalised autocorrelation at that period (0–1).
    """
    period, strength, _, _ = _periodicity(_profile(grid_layer, axis, mask))
    return period, strength


@dataclass(frozen=True)
class GridEvidence:
    """How strongly the lines layer repeats along x and y (see :func:`grid_evidence`).

    ``period_x`` / ``period_y`` are the smallest strong periods (px; NaN if none), ``strength_x`` / ``strength_y``
    the normalised autocorrelation there (0–1; ``strength_y`` is measured near the x period when the y profile's
    own period disagrees), ``periods_x`` how many x periods fit across the paper, ``major`` whether every fifth
    line is heavier, ``y_note`` how the y period was found, ``amplitude_x`` the RMS darkness of the periodic part
    along x (0–1).
    """

    period_x: float
    strength_x: float
    periods_x: float
    period_y: float
    strength_y: float
    major: bool
    width_px: int
    y_note: str
    amplitude_x: float = 0.0

    @property
    def is_grid(self) -> bool:
        """A grid: vertical lines that repeat strongly, densely (≥ 35 periods across) and visibly."""
        return (
            self.strength_x >= MIN_GRID_STRENGTH
            and self.periods_x >= MIN_GRID_PERIODS
            and self.amplitude_x >= MIN_GRID_AMPLITUDE
        )


def grid_evidence(grid_layer: np.ndarray, *, mask: np.ndarray | None = None) -> GridEvidence:
    """Periodicity of the grid lines along x and y (the measure :func:`grid_scale` accepts or refuses a grid by)."""
    profiles = [_profile(grid_layer, axis, mask) for axis in (1, 0)]
    (px, sx, major_x, amp_x), (py, sy, major_y, _) = (_periodicity(p) for p in profiles)
    width_px = grid_layer.shape[1] if mask is None else max(1, int(mask.any(axis=0).sum()))
    periods = width_px / px if np.isfinite(px) and px > 0 else 0.0
    y_note = "own period"
    # Rows of traces are periodic along y too and can hide the horizontal grid lines' period, while nothing
    # periodic competes with the vertical grid lines along x. When the axes disagree, the y period is looked for
    # near the x one (ECG paper has square cells, up to scanner/photo anisotropy); failing that, square pixels.
    if np.isfinite(px) and not (np.isfinite(py) and 0.7 < px / py < 1.4):
        acf_y = _acf(profiles[1])
        found = _peak_near(acf_y, px)
        if found is not None:
            py, sy, major_y = found, float(acf_y[int(round(found))]), _has_major_lines(acf_y, found)
            y_note = "near the x period"
        else:
            py, sy, major_y, y_note = px, 0.0, major_x, "none near the x period: square pixels"
    return GridEvidence(
        float(px), float(sx), float(periods), float(py), float(sy), bool(major_x or major_y), width_px, y_note, amp_x
    )


def grid_scale(grid_layer: np.ndarray, *, mask: np.ndarray | None = None) -> tuple[float, float, float, str]:
    """Pixels per mm along x and y from the grid, with the grid's strength and a note on how 1 mm was decided.

    Returns ``(px_per_mm_x, px_per_mm_y, strength, note)``; NaN scales when no grid is visible (weak or sparse
    vertical periodicity, or nothing repeating along y: see :class:`GridEvidence`).
    """
    ev = grid_evidence(grid_layer, mask=mask)
    if not ev.is_grid:
        return (
            float("nan"),
            float("nan"),
            ev.strength_x,
            (f"no grid (periodicity x {ev.strength_x:.2f} over {ev.periods_x:.0f} periods, y {ev.strength_y:.2f})"),
        )
    px, py, width_px = ev.period_x, ev.period_y, ev.width_px
    strength = float(min(ev.strength_x, ev.strength_y))
    # The smallest period is 1 mm when every fifth line is heavier (a minor/major grid) -- unless that makes the
    # page implausibly narrow (blurred photos lose the minor lines; rows of traces can mimic a fifth heavier line).
    if ev.major and width_px / px >= MIN_PAGE_WIDTH_MM:
        return px, py, strength, "grid: minor (1 mm) and major (5 mm) lines"
    # ... otherwise one line family is visible: 1 mm or 5 mm, whichever gives a plausible page width.
    expected = width_px / TYPICAL_PAGE_WIDTH_MM
    as_minor = abs(np.log(px / expected))
    as_major = abs(np.log(px / 5.0 / expected))
    if as_major < as_minor and px / 5.0 >= MIN_PX_PER_MM:
        return px / 5.0, py / 5.0, strength, "grid: one line family, taken as 5 mm from the page width"
    return px, py, strength, "grid: one line family, taken as 1 mm from the page width"


def _acf(profile: np.ndarray) -> np.ndarray:
    n = profile.size
    x = profile - gaussian_filter1d(profile, 3.0 * MAX_PX_PER_MM / 2)
    x = x - x.mean()
    acf = np.fft.irfft(np.abs(np.fft.rfft(x, 2 * n)) ** 2)[:n]
    if acf[0] <= 0:
        return np.zeros(n)
    return acf / acf[0] * n / np.maximum(n - np.arange(n), 1)


def _peak_near(acf: np.ndarray, lag: float, tolerance: float = 0.15) -> float | None:
    """Sub-pixel lag of the autocorrelation peak within ``±tolerance`` of ``lag`` (None when there is no clear one)."""
    lo, hi = max(2, int(lag * (1 - tolerance))), min(acf.size - 2, int(np.ceil(lag * (1 + tolerance))))
    if hi <= lo + 1:
        return None
    peaks = _local_maxima(acf, lo, hi)
    if not peaks:
        return None
    best = max(peaks, key=lambda p: acf[p])
    if acf[best] < 0.1:
        return None
    return _refine_period(acf, _parabolic(acf, best), acf.size)


def _profile(layer: np.ndarray, axis: int, mask: np.ndarray | None) -> np.ndarray:
    """Mean of ``layer`` across ``axis`` (0: profile along y... 1: along x) restricted to ``mask``."""
    across = 0 if axis == 1 else 1
    if mask is None:
        return layer.mean(axis=across)
    weights = mask.astype(np.float32)
    total = weights.sum(axis=across)
    prof = (layer * weights).sum(axis=across) / np.maximum(total, 1.0)
    keep = total > 0.3 * total.max()
    if keep.sum() < 16:
        return prof
    lo, hi = np.flatnonzero(keep)[[0, -1]]
    return prof[lo : hi + 1]


def _periodicity(profile: np.ndarray) -> tuple[float, float, bool, float]:
    """Smallest strong period of a profile (px, sub-pixel), its strength, whether every 5th peak is heavier, and
    the RMS amplitude of the periodic part (profile units)."""
    n = profile.size
    if n < 64:
        return float("nan"), 0.0, False, 0.0
    x = profile - gaussian_filter1d(profile, 3.0 * MAX_PX_PER_MM / 2)
    x = x - x.mean()
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    if acf[0] <= 0:
        return float("nan"), 0.0, False, 0.0
    variance = float(acf[0]) / n
    acf = acf / acf[0]
    # Unbiased estimate: long lags have fewer overlapping samples.
    acf = acf * n / np.maximum(n - np.arange(n), 1)
    lo = max(2, int(MIN_PX_PER_MM))
    hi = min(n // 3, int(5 * MAX_PX_PER_MM))
    if hi <= lo + 2:
        return float("nan"), 0.0, False, 0.0
    peaks = _local_maxima(acf, lo, hi)
    if not peaks:
        return float("nan"), 0.0, False, 0.0
    best = max(acf[p] for p in peaks)
    if best <= 0:
        return float("nan"), 0.0, False, 0.0
    # Smallest lag whose peak is a good share of the best one: the fundamental (avoid picking a harmonic).
    first = next(p for p in peaks if acf[p] >= 0.5 * best)
    period = _refine_period(acf, _parabolic(acf, first), n)
    major = _has_major_lines(acf, period)
    return period, float(acf[first]), major, float(np.sqrt(variance * max(0.0, float(acf[first]))))


def _local_maxima(values: np.ndarray, lo: int, hi: int) -> list[int]:
    segment = values[lo - 1 : hi + 2]
    inner = (segment[1:-1] > segment[:-2]) & (segment[1:-1] >= segment[2:])
    return [lo + int(i) for i in np.flatnonzero(inner)]


def _parabolic(values: np.ndarray, i: int) -> float:
    if 0 < i < values.size - 1:
        left, mid, right = values[i - 1], values[i], values[i + 1]
        denom = left - 2 * mid + right
        if denom < 0:
            return i + 0.5 * (left - right) / denom
    return float(i)


def _refine_period(acf: np.ndarray, period: float, n: int) -> float:
    """Sharpen a period by locating the autocorrelation peak at a large multiple of it."""
    for multiple in (40, 20, 10, 5):
        lag = period * multiple
        if lag > 0.6 * n:
            continue
        i = int(round(lag))
        window = max(2, int(0.3 * period))
        lo, hi = max(1, i - window), min(acf.size - 2, i + window)
        j = lo + int(np.argmax(acf[lo : hi + 1]))
        if acf[j] > 0.3 * acf[int(round(period))]:
            return _parabolic(acf, j) / multiple
    return period


def _has_major_lines(acf: np.ndarray, period: float) -> bool:
    """Whether the autocorrelation at 5 periods stands clearly above that at 1–4 periods (a minor/major grid)."""
    lags = [int(round(k * period)) for k in range(1, 6)]
    if lags[-1] >= acf.size:
        return False
    values = np.array([acf[max(0, lag - 1) : lag + 2].max() for lag in lags])
    return bool(values[4] > 1.15 * values[:4].max() and values[4] > 0.15)
