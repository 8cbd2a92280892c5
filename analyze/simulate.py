"""A 12-lead ECG with known intervals, for tests, benchmarks and demos (no download, no randomness unless asked).

Each wave is a raised-cosine (Hann) bump with exact start and end, so the true PR, QRS and QT are known:
P from ``p_on`` lasting ``p_ms``; the QRS as contiguous Q, R and S bumps from the QRS onset lasting ``qrs_ms``;
T from the QRS end + ST segment to ``qt_ms`` after the QRS onset. Every wave has a 3-D heart vector (x to the
left, y down, z to the front); limb leads are its frontal projections (Einthoven/Goldberger) and chest leads its
projections on horizontal directions from V1 (front-right) to V6 (left).
"""

from __future__ import annotations

import numpy as np

from ecg.record import EcgRecord

_V_ANGLES_DEG = (115.0, 95.0, 75.0, 60.0, 30.0, 0.0)  # chest leads in the horizontal plane, 0° = left, 90° = front


def _lead_matrix() -> np.ndarray:
    """(12, 3) projection of a heart vector (x, y, z) onto the 12 leads."""
    r3 = np.sqrt(3.0)
    limb = [(1, 0), (0.5, r3 / 2), (-0.5, r3 / 2), (-0.75, -r3 / 4), (0.75, -r3 / 4), (0, r3 / 2)]
    rows = [(x, y, 0.0) for x, y in limb]
    rows += [(np.cos(np.radians(a)), 0.0, np.sin(np.radians(a))) for a in _V_ANGLES_DEG]
    return np.array(rows)


def _bump(t: np.ndarray, start: float, width: float) -> np.ndarray:
    inside = (t >= start) & (t <= start + width)
    out = np.zeros_like(t)
    out[inside] = 0.5 - 0.5 * np.cos(2 * np.pi * (t[inside] - start) / width)
    return out


def simulate_ecg(
    *, duration_s: float = 10.0, fs: float = 500.0, heart_rate_bpm: float = 60.0, pr_ms: float = 160.0,
    qrs_ms: float = 90.0, qt_ms: float = 400.0, p_ms: float = 100.0, noise_mv: float = 0.0, seed: int = 0,
    rr_jitter: float = 0.0, p_waves: bool = True, ventricular_premature: tuple[int, ...] = (),
    atrial_premature: tuple[int, ...] = (), coupling: float = 0.65, flutter_bpm: float | None = None,
) -> EcgRecord:
    """A 12-lead record (mV) with the given rate and intervals (see the module docstring).

    ``rr_jitter`` is the relative spread of RR intervals (0 = perfectly regular; 0.2 with ``p_waves=False``
    imitates atrial fibrillation); ``noise_mv`` adds white noise of that standard deviation.
    Beats numbered in ``ventricular_premature`` (0 = first) come at ``coupling`` × RR with a wide (160 ms) QRS of
    another axis, a discordant T wave, no P wave and a full compensatory pause; beats in ``atrial_premature`` come
    at ``coupling`` × RR with their P wave and the normal QRS, and the sinus node restarts from them.
    ``flutter_bpm`` replaces the P waves with a sawtooth at that rate (0.4 mV peak-to-peak in II).
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs))
    t = np.arange(n) / fs
    rr = 60.0 / heart_rate_bpm
    q_w, r_w = 0.2 * qrs_ms / 1000, 0.45 * qrs_ms / 1000
    s_w = qrs_ms / 1000 - q_w - r_w
    st = 0.35 * (qt_ms - qrs_ms) / 1000
    t_w = qt_ms / 1000 - qrs_ms / 1000 - st
    vectors = {  # heart vectors (mV) of each wave
        "P": np.array([0.10, 0.12, 0.02]),
        "Q": np.array([-0.10, -0.05, -0.20]),
        "R": np.array([1.00, 0.90, -0.40]),
        "S": np.array([-0.30, -0.20, 0.60]),
        "T": np.array([0.25, 0.25, -0.10]),
    }
    vectors["V"] = np.array([-1.2, -0.8, 1.4])  # ectopic ventricular depolarisation, another axis
    vectors["VT"] = np.array([0.35, 0.3, -0.4])  # its discordant repolarisation
    shapes = {k: np.zeros(n) for k in vectors}
    qrs_on, beat = 0.45, 0
    while qrs_on + qt_ms / 1000 < duration_s:
        step = rr * (1.0 + rr_jitter * rng.uniform(-1, 1))
        if beat in ventricular_premature:
            on = qrs_on - (1 - coupling) * rr
            shapes["V"] += _bump(t, on, 0.10) - 0.4 * _bump(t, on + 0.09, 0.07)
            shapes["VT"] += _bump(t, on + 0.16 + st, t_w + 0.04)
            step = rr  # the sinus node is not reset: the next sinus beat comes on time (compensatory pause)
        else:
            if beat in atrial_premature:
                qrs_on -= (1 - coupling) * rr  # early, and the sinus node restarts from here
            if p_waves and flutter_bpm is None:
                shapes["P"] += _bump(t, qrs_on - pr_ms / 1000, p_ms / 1000)
            shapes["Q"] += _bump(t, qrs_on, q_w)
            shapes["R"] += _bump(t, qrs_on + q_w, r_w)
            shapes["S"] += _bump(t, qrs_on + q_w + r_w, s_w)
            shapes["T"] += _bump(t, qrs_on + qrs_ms / 1000 + st, t_w)
        qrs_on += step
        beat += 1
    if flutter_bpm is not None:
        shapes["P"] = 2.5 * (((t * flutter_bpm / 60.0) % 1.0) - 0.5)  # sawtooth, heart vector of the P wave
    heart = sum(np.outer(vectors[k], shapes[k]) for k in vectors)  # (3, n)
    signals = _lead_matrix() @ heart
    if noise_mv:
        signals = signals + rng.normal(0.0, noise_mv, signals.shape)
    return EcgRecord(signals.astype(np.float32), fs, {"source": "analyze.simulate"})


def three_by_four(record: EcgRecord, block_s: float = 2.5, rhythm_lead: str = "II") -> EcgRecord:
    """The record as a 3×4 printout shows it: each lead only in its 2.5 s column, the rhythm lead in full."""
    from ecg.record import LEADS

    columns = [("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6")]
    out = np.full(record.signals.shape, np.nan, dtype=np.float32)
    block = int(round(block_s * record.fs))
    for c, names in enumerate(columns):
        for name in names:
            i = LEADS.index(name)
            out[i, c * block : (c + 1) * block] = record.signals[i, c * block : (c + 1) * block]
    out[LEADS.index(rhythm_lead)] = record.signals[LEADS.index(rhythm_lead)]
    return EcgRecord(out, record.fs, {**record.meta, "layout": "3x4"})
