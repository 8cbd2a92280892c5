"""Test fixtures for the digitizer: draw ECG paper, grids and 3×4+1 printouts of known signals with OpenCV."""

from __future__ import annotations

import cv2
import numpy as np

from ecg.record import LEADS

FS = 500.0
ROWS_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"), ("II",))


def synthetic_leads(seed: int = 0, duration_s: float = 10.0, fs: float = FS) -> np.ndarray:
    """12 smooth ECG-like leads (mV), shape (12, n): Gaussian P, QRS and T waves at ~70 bpm, lead-specific gains."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * fs)) / fs
    beats = np.arange(0.3, duration_s, 60.0 / rng.uniform(62, 78))
    out = np.zeros((12, t.size))
    for i in range(12):
        gains = rng.uniform(-1, 1, 5) * np.array([0.15, 0.2, 1.2, 0.4, 0.3])
        gains[2] = np.sign(gains[2] or 1) * max(abs(gains[2]), 0.6)
        for b in beats:
            for (offset, width), g in zip(
                ((-0.16, 0.025), (-0.03, 0.01), (0.0, 0.012), (0.03, 0.012), (0.25, 0.045)), gains, strict=True
            ):
                out[i] += g * np.exp(-0.5 * ((t - b - offset) / width) ** 2)
        out[i] += 0.05 * np.sin(2 * np.pi * 0.3 * t + i)
    return out


def draw_grid(
    width: int,
    height: int,
    px_per_mm_x: float,
    px_per_mm_y: float,
    *,
    colour=(230, 60, 60),
    minor_colour=(245, 190, 190),
    paper=(255, 252, 248),
) -> np.ndarray:
    """RGB ECG paper: minor lines every mm, major lines every 5 mm."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = paper
    for k in range(int(width / px_per_mm_x) + 1):
        x = int(round(k * px_per_mm_x))
        cv2.line(img, (x, 0), (x, height - 1), colour if k % 5 == 0 else minor_colour, 2 if k % 5 == 0 else 1)
    for k in range(int(height / px_per_mm_y) + 1):
        y = int(round(k * px_per_mm_y))
        cv2.line(img, (0, y), (width - 1, y), colour if k % 5 == 0 else minor_colour, 2 if k % 5 == 0 else 1)
    return img


def draw_printout(
    signals: np.ndarray,
    *,
    px_per_mm: float = 6.0,
    fs: float = FS,
    grid_colour=(230, 60, 60),
    minor_colour=(245, 190, 190),
) -> tuple[np.ndarray, np.ndarray, float]:
    """A 3×4 + lead II rhythm printout (25 mm/s, 10 mm/mV) of ``signals`` (12, 10 s).

    Returns the RGB image, the reference actually plotted (NaN outside each lead's window) and the x of t = 0.
    """
    width_mm, height_mm = 280.0, 200.0
    width, height = int(width_mm * px_per_mm), int(height_mm * px_per_mm)
    img = draw_grid(width, height, px_per_mm, px_per_mm, colour=grid_colour, minor_colour=minor_colour)
    reference = np.full_like(signals, np.nan)
    x_origin = 20.0 * px_per_mm
    px_per_s = 25.0 * px_per_mm
    px_per_mv = 10.0 * px_per_mm
    n = signals.shape[1]
    for r, leads in enumerate(ROWS_3X4):
        baseline = (50.0 + 37.0 * r) * px_per_mm
        # calibration pulse: 1 mV, 0.2 s wide, ending at the time origin
        pulse = np.array(
            [
                [x_origin - 0.3 * px_per_s, baseline],
                [x_origin - 0.25 * px_per_s, baseline],
                [x_origin - 0.25 * px_per_s, baseline - px_per_mv],
                [x_origin - 0.05 * px_per_s, baseline - px_per_mv],
                [x_origin - 0.05 * px_per_s, baseline],
                [x_origin, baseline],
            ]
        )
        cv2.polylines(img, [np.round(pulse * 16).astype(np.int32)], False, (0, 0, 0), 2, cv2.LINE_AA, shift=4)
        block = n // len(leads)
        points = []
        for c, lead in enumerate(leads):
            i = LEADS.index(lead)
            sl = slice(c * block, (c + 1) * block)
            reference[i, sl] = signals[i, sl]
            samples = np.arange(sl.start, sl.stop)
            points.append(
                np.column_stack([x_origin + samples / fs * px_per_s, baseline - signals[i, sl] * px_per_mv])
            )
            cv2.putText(
                img,
                lead,
                (int(x_origin + c * block / fs * px_per_s) + 5, int(baseline + 8 * px_per_mm)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
        path = np.concatenate(points)
        cv2.polylines(img, [np.round(path * 16).astype(np.int32)], False, (0, 0, 0), 2, cv2.LINE_AA, shift=4)
    return img, reference, x_origin
