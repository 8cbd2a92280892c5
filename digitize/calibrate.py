"""Pixel scale of a rectified ECG: grid pitch in x and y, and the calibration pulse that confirms the gain.

The grid pitch comes from the autocorrelation of the grid's projection profile, separately along x and y (photos
and scanners do not keep pixels square). The smallest strong period is then 1 mm (minor lines) or 5 mm (only major
lines visible); a minor-line grid shows every fifth line heavier, and otherwise the page width decides. The
calibration pulse (a 1 mV rectangle at the start of a row: 10 mm tall at the standard 10 mm/mV) confirms or
corrects the gain, and gives the scale on its own when no grid is visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d

STANDARD_SPEED_MM_S = 25.0
"""Paper speed (mm/s) assumed unless read from the image."""

STANDARD_GAIN_MM_MV = 10.0
"""Gain (mm/mV) assumed unless the calibration pulse says otherwise."""

KNOWN_GAINS_MM_MV = (5.0, 10.0, 20.0)
"""Gains an ECG printer offers; a pulse within 15 % of one of them sets the gain."""

MIN_PX_PER_MM, MAX_PX_PER_MM = 1.5, 40.0
"""Plausible image scales (≈ 40–1000 dpi)."""

MIN_PAGE_WIDTH_MM = 120.0
"""Narrowest page (mm) a 1 mm reading of the grid may imply; narrower means the period was 5 mm."""

TYPICAL_PAGE_WIDTH_MM = 280.0
"""Printed width of a 10 s landscape ECG page (A4 / letter), used only to choose between 1 mm and 5 mm pitch."""


@dataclass(frozen=True)
class Calibration:
    """Scale of a rectified ECG image.

    Attributes
    ----------
    px_per_mm_x, px_per_mm_y : float
        Pixels per millimetre along time (x) and amplitude (y).
    speed_mm_s : float
        Paper speed in mm/s.
    gain_mm_mv : float
        Gain in mm/mV.
    source : str
        ``"grid"`` (pitch measured from the grid), ``"pulse"`` (no usable grid: scale from the calibration pulse,
        assuming square pixels) or ``"assumed"`` (neither: page-width guess).
    grid_strength : float
        Periodicity of the grid (autocorrelation at the pitch, 0–1).
    pulse_mm : float or None
        Height of the calibration pulse found, in mm (None when no pulse was found).
    notes : tuple of str
        Human-readable remarks (what was assumed, what disagreed).
    """

    px_per_mm_x: float
    px_per_mm_y: float
    speed_mm_s: float = STANDARD_SPEED_MM_S
    gain_mm_mv: float = STANDARD_GAIN_MM_MV
    source: str = "grid"
    grid_strength: float = 0.0
    pulse_mm: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def px_per_s(self) -> float:
        """Pixels per second along x."""
        return self.px_per_mm_x * self.speed_mm_s

    @property
    def px_per_mv(self) -> float:
        """Pixels per millivolt along y."""
        return self.px_per_mm_y * self.gain_mm_mv

    def with_note(self, note: str) -> Calibration:
        return replace(self, notes=self.notes + (note,))


@dataclass(frozen=True)
class Pulse:
    """A calibration pulse found at the start of a row (pixels of the rectified image)."""

    x_start: float
    x_end: float
    height_px: float
    baseline_y: float


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
    period, strength, _ = _periodicity(_profile(grid_layer, axis, mask))
    return period, strength


def grid_scale(grid_layer: np.ndarray, *, mask: np.ndarray | None = None) -> tuple[float, float, float, str]:
    """Pixels per mm along x and y from the grid, with the grid's strength and a note on how 1 mm was decided.

    Returns ``(px_per_mm_x, px_per_mm_y, strength, note)``; NaN scales when no grid is visible.
    """
    profiles = [_profile(grid_layer, axis, mask) for axis in (1, 0)]
    (px, sx, major_x), (py, sy, major_y) = (_periodicity(p) for p in profiles)
    # Rows of traces are periodic along y too and can hide the horizontal grid lines' period, while nothing
    # periodic competes with the vertical grid lines along x. When the axes disagree, the y period is looked for
    # near the x one (ECG paper has square cells, up to scanner/photo anisotropy); failing that, square pixels.
    if np.isfinite(px) and not (np.isfinite(py) and 0.7 < px / py < 1.4):
        acf_y = _acf(profiles[1])
        found = _peak_near(acf_y, px)
        if found is not None:
            py, sy, major_y = found, float(acf_y[int(round(found))]), _has_major_lines(acf_y, found)
        else:
            py, sy, major_y = px, sx, major_x
    strength = float(min(sx, sy))
    if not np.isfinite(px) or not np.isfinite(py) or strength < 0.08:
        return float("nan"), float("nan"), strength, "no periodic grid"
    width_px = grid_layer.shape[1] if mask is None else max(1, int(mask.any(axis=0).sum()))
    # The smallest period is 1 mm when every fifth line is heavier (a minor/major grid) -- unless that makes the
    # page implausibly narrow (blurred photos lose the minor lines; rows of traces can mimic a fifth heavier line).
    if (major_x or major_y) and width_px / px >= MIN_PAGE_WIDTH_MM:
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


def _periodicity(profile: np.ndarray) -> tuple[float, float, bool]:
    """Smallest strong period of a profile (px, sub-pixel), its strength, and whether every 5th peak is heavier."""
    n = profile.size
    if n < 64:
        return float("nan"), 0.0, False
    x = profile - gaussian_filter1d(profile, 3.0 * MAX_PX_PER_MM / 2)
    x = x - x.mean()
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    if acf[0] <= 0:
        return float("nan"), 0.0, False
    acf = acf / acf[0]
    # Unbiased estimate: long lags have fewer overlapping samples.
    acf = acf * n / np.maximum(n - np.arange(n), 1)
    lo = max(2, int(MIN_PX_PER_MM))
    hi = min(n // 3, int(5 * MAX_PX_PER_MM))
    if hi <= lo + 2:
        return float("nan"), 0.0, False
    peaks = _local_maxima(acf, lo, hi)
    if not peaks:
        return float("nan"), 0.0, False
    best = max(acf[p] for p in peaks)
    if best <= 0:
        return float("nan"), 0.0, False
    # Smallest lag whose peak is a good share of the best one: the fundamental (avoid picking a harmonic).
    first = next(p for p in peaks if acf[p] >= 0.5 * best)
    period = _refine_period(acf, _parabolic(acf, first), n)
    major = _has_major_lines(acf, period)
    return period, float(acf[first]), major


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


def find_pulse(
    trace_prob: np.ndarray, baseline_y: float, x_lo: int, x_hi: int, *, px_per_mm_x: float, band_px: tuple[int, int]
) -> Pulse | None:
    """Find a rectangular calibration pulse standing on the row's baseline between ``x_lo`` and ``x_hi``.

    Parameters
    ----------
    trace_prob : ndarray (H, W)
        Trace probability (0–1).
    baseline_y : float
        The row's baseline (px).
    x_lo, x_hi : int
        Columns to search (the start of the row).
    px_per_mm_x : float
        Horizontal scale, to check the pulse width (2–10 mm).
    band_px : (int, int)
        Rows ``[top, bottom)`` of the row's band.
    """
    top, bottom = max(0, band_px[0]), min(trace_prob.shape[0], band_px[1])
    x_lo, x_hi = max(0, x_lo), min(trace_prob.shape[1], x_hi)
    if x_hi - x_lo < 4 or bottom - top < 4:
        return None
    window = trace_prob[top:bottom, x_lo:x_hi] > 0.5
    has_ink = window.any(axis=0)
    first_ink = np.where(has_ink, window.argmax(axis=0), window.shape[0]) + top
    heights = baseline_y - first_ink
    tall = heights > 3.0 * px_per_mm_x
    best: Pulse | None = None
    for start, stop in _runs(tall):
        width_mm = (stop - start) / px_per_mm_x
        if not 2.0 <= width_mm <= 10.0:
            continue
        plateau = heights[start:stop]
        level = float(np.median(plateau))
        if np.mean(np.abs(plateau - level) < 0.1 * level + 2) < 0.7:
            continue  # not flat-topped: a QRS complex, not a pulse
        candidate = Pulse(float(x_lo + start), float(x_lo + stop), level, float(baseline_y))
        if best is None or candidate.x_start < best.x_start:
            best = candidate
    return best


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2], strict=True))


def gain_from_pulses(pulse_heights_mm: list[float]) -> tuple[float, str]:
    """Gain (mm/mV) the calibration pulses imply, snapped to a printer setting, with a note."""
    if not pulse_heights_mm:
        return STANDARD_GAIN_MM_MV, f"no calibration pulse found: gain {STANDARD_GAIN_MM_MV:g} mm/mV assumed"
    height = float(np.median(pulse_heights_mm))
    for gain in KNOWN_GAINS_MM_MV:
        if abs(height / gain - 1.0) < 0.15:
            return gain, f"calibration pulse {height:.1f} mm tall confirms {gain:g} mm/mV"
    return STANDARD_GAIN_MM_MV, (
        f"calibration pulse {height:.1f} mm tall matches no standard gain: {STANDARD_GAIN_MM_MV:g} mm/mV assumed"
    )


def calibrate(grid_layer: np.ndarray, *, paper_mask: np.ndarray | None = None) -> Calibration:
    """Scale of a rectified image from its grid; without a grid, a provisional page-width scale.

    The gain stays at the standard 10 mm/mV until :func:`apply_pulses` has seen the calibration pulses.
    """
    px_x, px_y, strength, note = grid_scale(grid_layer, mask=paper_mask)
    plausible = all(np.isfinite(v) and MIN_PX_PER_MM <= v <= MAX_PX_PER_MM for v in (px_x, px_y))
    if plausible and 0.7 < px_x / px_y < 1.4:
        return Calibration(px_x, px_y, source="grid", grid_strength=strength, notes=(note,))
    width = grid_layer.shape[1] if paper_mask is None else max(1, int(paper_mask.any(axis=0).sum()))
    guess = width / TYPICAL_PAGE_WIDTH_MM
    return Calibration(
        guess,
        guess,
        source="assumed",
        grid_strength=strength,
        notes=("no usable grid: scale provisionally from the page width",),
    )


def apply_pulses(calibration: Calibration, pulses: list[Pulse | None]) -> Calibration:
    """Confirm or correct the gain from the calibration pulses; without a grid, take the scale from them.

    Without a grid the pulse is taken as 1 mV at 10 mm/mV with square pixels (stated in the notes).
    """
    heights_px = [p.height_px for p in pulses if p is not None]
    if calibration.source != "grid":
        if not heights_px:
            return calibration.with_note("no calibration pulse either: scale assumed from the page width")
        px_per_mm = float(np.median(heights_px)) / STANDARD_GAIN_MM_MV
        return replace(
            calibration,
            px_per_mm_x=px_per_mm,
            px_per_mm_y=px_per_mm,
            source="pulse",
            pulse_mm=STANDARD_GAIN_MM_MV,
            notes=calibration.notes + ("no grid: scale from the calibration pulse (1 mV = 10 mm, square pixels)",),
        )
    heights_mm = [h / calibration.px_per_mm_y for h in heights_px]
    gain, note = gain_from_pulses(heights_mm)
    pulse_mm = float(np.median(heights_mm)) if heights_mm else None
    return replace(calibration, gain_mm_mv=gain, pulse_mm=pulse_mm, notes=calibration.notes + (note,))
