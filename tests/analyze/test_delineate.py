"""The biphasic-P rule of the spatial delineation on constructed P waves (no data needed)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks

from analyze.delineate import _first_half

FS = 500.0


def ms(seconds: float) -> int:
    return int(round(seconds * FS))


def _p_wave(gap_s: float, second_sign: float, quiet_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Two 0.05 mV halves 40 ms wide in leads (1, 1, 0.5), the second times ``second_sign``, their peaks
    ``gap_s`` apart, with ``quiet_s`` of isoelectric line between them."""
    t = np.arange(ms(0.4)) / FS
    first, second = 0.1, 0.1 + gap_s + quiet_s
    shape = lambda c: np.exp(-0.5 * ((t - c) / 0.012) ** 2)  # noqa: E731
    direction = np.array([1.0, 1.0, 0.5])[:, None]
    leads = 0.05 * direction * (shape(first) + second_sign * 1.2 * shape(second))
    rms = np.sqrt(np.mean(leads**2, axis=0))
    return rms, leads


def _halves(rms: np.ndarray, leads: np.ndarray) -> tuple[int, int]:
    found, props = find_peaks(rms, prominence=0.0)
    p_peak = int(found[np.argmax(props["prominences"])])
    return _first_half(rms, leads, found, p_peak, ms), p_peak


def test_biphasic_p_onset_starts_at_the_first_half():
    rms, leads = _p_wave(0.05, -1.0)
    first, p_peak = _halves(rms, leads)
    assert first < p_peak and abs(first - ms(0.1)) <= 2


@pytest.mark.parametrize("case", ["same direction", "isoelectric segment between", "too far apart"])
def test_two_waves_that_are_not_one_biphasic_p_stay_apart(case):
    rms, leads = {"same direction": _p_wave(0.05, 1.0), "isoelectric segment between": _p_wave(0.05, -1.0, 0.06),
                  "too far apart": _p_wave(0.12, -1.0)}[case]
    first, p_peak = _halves(rms, leads)
    assert first == p_peak
