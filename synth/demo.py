"""A synthetic 12-lead record for tests, benchmarks and demos when no real data is at hand.

Each beat is a sum of Gaussian waves (P, Q, R, S, T) for leads I and II; the other limb leads follow from
Einthoven's and Goldberger's relations (III = II − I, aVR = −(I + II)/2, aVL = I − II/2, aVF = II − I/2), and
the chest leads progress from an rS complex in V1 to a qR complex in V6. It is plausible, not physiological.
"""

from __future__ import annotations

import numpy as np

from ecg.record import EcgRecord

# (centre s relative to R, width s, amplitude mV) for lead II; lead I uses 0.6× the QRS and T.
_WAVES_II = ((-0.18, 0.025, 0.15), (-0.03, 0.010, -0.10), (0.0, 0.011, 1.2), (0.03, 0.012, -0.25),
             (0.26, 0.055, 0.35))
_CHEST = {  # (r amplitude, s amplitude, t amplitude) in mV
    "V1": (0.25, -1.0, -0.1), "V2": (0.5, -1.4, 0.4), "V3": (0.9, -0.9, 0.45),
    "V4": (1.5, -0.5, 0.45), "V5": (1.6, -0.25, 0.35), "V6": (1.2, -0.1, 0.3),
}


def synthetic_record(
    duration_s: float = 10.0, fs: float = 500.0, heart_rate_bpm: float = 72.0, seed: int = 0, noise_mv: float = 0.01
) -> EcgRecord:
    """A 12-lead record (mV) with beats at ``heart_rate_bpm`` (±3 % jitter), small baseline wander and noise."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs))
    t = np.arange(n) / fs
    rr = 60.0 / heart_rate_bpm
    r_times = []
    at = float(rng.uniform(0.2, 0.6))
    while at < duration_s + rr:
        r_times.append(at)
        at += rr * rng.uniform(0.97, 1.03)

    def wave_sum(waves) -> np.ndarray:
        out = np.zeros(n)
        for r in r_times:
            for centre, width, amp in waves:
                out += amp * np.exp(-0.5 * ((t - r - centre) / width) ** 2)
        return out

    lead_ii = wave_sum(_WAVES_II)
    lead_i = wave_sum(tuple((c, w, a * (0.6 if abs(c) < 0.1 or c > 0.1 else 0.8)) for c, w, a in _WAVES_II))
    leads = {
        "I": lead_i,
        "II": lead_ii,
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) / 2,
        "aVL": lead_i - lead_ii / 2,
        "aVF": lead_ii - lead_i / 2,
    }
    for name, (r_amp, s_amp, t_amp) in _CHEST.items():
        leads[name] = wave_sum(((-0.18, 0.025, 0.08), (0.0, 0.011, r_amp), (0.035, 0.013, s_amp),
                                (0.26, 0.055, t_amp)))
    wander = 0.05 * np.sin(2 * np.pi * 0.25 * t + rng.uniform(0, 2 * np.pi))
    signals = np.stack([leads[name] + wander + rng.normal(0, noise_mv, n) for name in leads])
    return EcgRecord(signals.astype(np.float32), fs, {"source": "synthetic", "seed": seed})
