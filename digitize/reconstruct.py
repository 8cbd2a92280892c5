"""Extracted traces (pixels) → a 12-lead `EcgRecord` in millivolts at a uniform sampling rate.

Per lead panel: x → seconds from the layout's time origin, y → millivolts from the panel's own baseline (the
median trace level, which is the isoelectric line for an ECG), linear interpolation onto the uniform grid, then a
short Savitzky–Golay smoother (Savitzky & Golay 1964; 10 ms window, cubic, shorter than any QRS deflection, so QRS
width and height are kept — see ``bench/digitize_eval.py --no-smooth``). The record stays faithful to the paper:
no high-pass is applied unless asked for (``highpass_hz``, e.g. :data:`SUGGESTED_HIGHPASS_HZ`; a zero-phase
forward–backward Butterworth, so no phase shift and no QRS widening), because ``analyze`` applies its own
cleaning. Samples outside a lead's time window stay NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import butter, savgol_filter, sosfiltfilt

from digitize.calibrate import Calibration
from digitize.layout import Layout
from digitize.trace import RowTrace
from ecg.record import DEFAULT_FS, LEADS, EcgRecord

SMOOTH_WINDOW_S = 0.010
"""Savitzky–Golay window (s)."""

EDGE_PX = 2.0
"""Trace samples this close to a panel's ends (px) are not used: the pen jumps there to the next lead."""

SUGGESTED_HIGHPASS_HZ = 0.5
"""Baseline-wander cut-off (Hz) of the optional high-pass (off by default: the record keeps the drawn baseline)."""


def reconstruct(
    traces: Sequence[RowTrace],
    layout: Layout,
    calibration: Calibration,
    *,
    fs: float = DEFAULT_FS,
    smooth: bool = True,
    highpass_hz: float | None = None,
    meta: dict | None = None,
) -> EcgRecord:
    """Build the record from one :class:`RowTrace` per layout row.

    Parameters
    ----------
    traces : sequence of RowTrace
        Row traces, in the order of ``layout.baselines``.
    layout : Layout
        Rows, panels and the time origin.
    calibration : Calibration
        Pixel scale (px/s, px/mV).
    fs : float
        Output sampling rate (Hz).
    smooth : bool
        Apply the Savitzky–Golay smoother.
    highpass_hz : float or None
        Zero-phase high-pass cut-off (Hz); None (default) keeps the baseline as drawn.
    """
    n_samples = int(round(layout.duration_s * fs))
    signals = np.full((len(LEADS), n_samples), np.nan, dtype=np.float64)
    for panel in layout.panels:
        trace = traces[panel.row]
        pulse = layout.pulses[panel.row] if panel.row < len(layout.pulses) else None
        skip = [(pulse.x_start - 3.0, min(pulse.x_end + 3.0, layout.x_origin - 1.0))] if pulse is not None else []
        values = panel_signal(trace, panel.x_start, panel.x_end, layout.x_origin, calibration, fs, skip=skip)
        if values is None:
            continue
        start, samples = values
        samples = panel.sign * clean_segment(samples, fs, smooth=smooth, highpass_hz=highpass_hz)
        start += int(round(panel.time_shift_s * fs))
        if start < 0:
            samples, start = samples[-start:], 0
        row = LEADS.index(panel.lead)
        stop = min(n_samples, start + samples.size)
        if stop > start:
            signals[row, start:stop] = samples[: stop - start]
    info = {
        "source": "digitized image",
        "layout": layout.template,
        "speed_mm_s": calibration.speed_mm_s,
        "gain_mm_mv": calibration.gain_mm_mv,
    }
    info.update(meta or {})
    return EcgRecord(signals.astype(np.float32), fs, info)


def panel_signal(
    trace: RowTrace,
    x_start: float,
    x_end: float,
    x_origin: float,
    calibration: Calibration,
    fs: float,
    *,
    skip: Sequence[tuple[float, float]] = (),
    edge_px: float = EDGE_PX,
) -> tuple[int, np.ndarray] | None:
    """Samples (mV) of one panel on the uniform grid: ``(index of the first sample, values)``.

    Trace samples within ``edge_px`` of the panel's ends (where the pen jumps to the next lead) and inside the
    ``skip`` column ranges (the calibration pulse) are left out; the nearest kept value is held over them.
    """
    inside = (trace.x >= x_start + edge_px) & (trace.x < x_end - edge_px)
    for lo, hi in skip:
        inside &= (trace.x < lo) | (trace.x > hi)
    if inside.sum() < 4:
        return None
    x = trace.x[inside].astype(np.float64)
    y = trace.y[inside]
    t = (x - x_origin) / calibration.px_per_s
    t_start = (x_start - x_origin) / calibration.px_per_s
    t_end = (x_end - x_origin) / calibration.px_per_s
    first = int(np.ceil(t_start * fs - 1e-6))
    last = int(np.ceil(t_end * fs - 1e-6))
    grid = np.arange(max(first, 0), last) / fs
    if grid.size < 4:
        return None
    baseline = float(np.median(y))
    mv = (baseline - y) / calibration.px_per_mv
    return max(first, 0), np.interp(grid, t, mv)


def clean_segment(
    values: np.ndarray, fs: float, *, smooth: bool = True, highpass_hz: float | None = None
) -> np.ndarray:
    """Savitzky–Golay smoothing and zero-phase high-pass of one contiguous segment (mV)."""
    out = np.asarray(values, dtype=np.float64)
    window = int(round(SMOOTH_WINDOW_S * fs)) | 1
    if smooth and window >= 5 and out.size > window:
        out = savgol_filter(out, window, 3)
    if highpass_hz is not None and out.size > 3 * fs / highpass_hz / 10:
        sos = butter(1, highpass_hz, btype="highpass", fs=fs, output="sos")
        out = sosfiltfilt(sos, out, padtype="even", padlen=min(out.size - 1, int(fs)))
    return out
