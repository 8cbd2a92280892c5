"""Atrial activity between the QRS complexes: the dominant atrial rate of flutter waves.

Flutter waves are regular at about 250–350 /min and continue through the QRS and T waves; fixed 2:1 or 4:1
conduction locks them to the QRS, so a QRS-T template subtraction would cancel them too. Instead each QRS is
blanked (−60…+80 ms, bridged linearly), the lead band-passed (3–12 Hz, which takes most of the T wave's energy
out) and the spectra of the inferior leads and V1 (where flutter waves are largest) averaged. The dominant
frequency between 3.5 and 6.5 Hz (210–390 /min) is the atrial rate; the share of the 2–12 Hz power within
±0.3 Hz of it (and its second harmonic) is the *concentration*: a sawtooth puts most of its power there, sinus
P and T waves spread theirs (Stridh & Sörnmo, IEEE Trans Biomed Eng 48:105, 2001, for the QRST problem; spectral
analysis of flutter: Bollmann et al., J Cardiovasc Electrophysiol 14:S1, 2003).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from ecg.record import LEADS, finite_runs

ATRIAL_LEADS = ("II", "III", "aVF", "V1")
BAND_HZ = (3.5, 6.5)
PEAK_HALF_WIDTH_HZ = 0.3
MIN_SECONDS = 4.0


def atrial_activity(clean: np.ndarray, r_peaks: np.ndarray, fs: float) -> tuple[float | None, float | None]:
    """``(atrial rate /min, concentration 0–1)`` of the QRS-blanked inferior leads and V1; ``(None, None)`` when
    no such lead is recorded for :data:`MIN_SECONDS`."""
    spectra = []
    freqs = None
    for name in ATRIAL_LEADS:
        row = clean[LEADS.index(name)]
        runs = [run for run in finite_runs(row) if run[1] - run[0] >= MIN_SECONDS * fs]
        if not runs:
            continue
        a, b = max(runs, key=lambda run: run[1] - run[0])
        x = _blank_qrs(row[a:b].astype(float), r_peaks - a, fs)
        sos = butter(4, (3.0, 12.0), btype="bandpass", fs=fs, output="sos")
        x = sosfiltfilt(sos, x) * np.hanning(len(x))
        n = int(2 ** np.ceil(np.log2(len(x) * 4)))
        power = np.abs(np.fft.rfft(x, n)) ** 2
        f = np.fft.rfftfreq(n, 1 / fs)
        band = (f >= 2.0) & (f <= 12.0)
        total = power[band].sum()
        if total <= 0:
            continue
        spectra.append(np.interp(np.linspace(2.0, 12.0, 1001), f[band], power[band] / total))
        freqs = np.linspace(2.0, 12.0, 1001)
    if not spectra or freqs is None:
        return None, None
    spectrum = np.mean(spectra, axis=0)
    search = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    peak = float(freqs[search][np.argmax(spectrum[search])])
    near = np.abs(freqs - peak) <= PEAK_HALF_WIDTH_HZ
    near |= np.abs(freqs - 2 * peak) <= PEAK_HALF_WIDTH_HZ
    concentration = float(spectrum[near].sum() / spectrum.sum())
    return peak * 60.0, concentration


def _blank_qrs(x: np.ndarray, peaks: np.ndarray, fs: float) -> np.ndarray:
    out = x.copy()
    pre, post = int(0.06 * fs), int(0.08 * fs)
    for r in peaks:
        a, b = max(0, r - pre), min(len(x) - 1, r + post)
        if b <= a or r < 0 or r >= len(x):
            continue
        out[a : b + 1] = np.linspace(out[a], out[b], b - a + 1)
    return out
