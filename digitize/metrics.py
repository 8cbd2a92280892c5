"""Scores of a digitized ECG against the signal that was plotted: the PhysioNet/CinC 2024 challenge SNR and Pearson r.

Per record and lead (Reyna et al., "Digitization and classification of ECG images", PhysioNet/CinC Challenge 2024):
the estimate may first be shifted by up to 0.5 s and offset by up to 1 mV to match the reference best; then
``SNR = 10·log10(Σ ref² / Σ (ref − est)²)`` over the samples finite in both, multiplied by the share of the
reference's finite samples that the estimate covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SHIFT_S = 0.5
MAX_OFFSET_MV = 1.0


@dataclass(frozen=True)
class LeadScore:
    """Agreement of one lead with its reference.

    Attributes
    ----------
    snr_db : float
        Challenge SNR (dB) times ``coverage``.
    raw_snr_db : float
        SNR over the covered samples only (dB).
    coverage : float
        Share (0–1) of the reference's finite samples the estimate covers after alignment.
    pearson_r : float
        Correlation over the covered samples (NaN when fewer than 3 or a constant signal).
    shift_s : float
        Time shift applied to the estimate (s; positive = estimate delayed).
    offset_mv : float
        Offset added to the estimate (mV).
    """

    snr_db: float
    raw_snr_db: float
    coverage: float
    pearson_r: float
    shift_s: float
    offset_mv: float


def lead_score(
    reference: np.ndarray,
    estimate: np.ndarray,
    fs: float,
    *,
    max_shift_s: float = MAX_SHIFT_S,
    max_offset_mv: float = MAX_OFFSET_MV,
) -> LeadScore:
    """Score one lead (both arrays in mV at ``fs``, NaN where not recorded).

    The shift (whole samples, ``|shift| ≤ max_shift_s``) minimising the mean squared error after the best clipped
    offset is chosen.
    """
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    n = min(ref.size, est.size)
    ref, est = ref[:n], est[:n]
    ref_finite = np.isfinite(ref)
    n_ref = int(ref_finite.sum())
    if n_ref == 0:
        raise ValueError("the reference lead has no finite samples")
    max_shift = int(round(max_shift_s * fs))
    best: tuple[float, int, float] | None = None
    for shift in range(-max_shift, max_shift + 1):
        r, e = _overlap(ref, est, shift)
        both = np.isfinite(r) & np.isfinite(e)
        if both.sum() < 3:
            continue
        diff = r[both] - e[both]
        offset = float(np.clip(diff.mean(), -max_offset_mv, max_offset_mv))
        mse = float(np.mean((diff - offset) ** 2))
        if best is None or mse < best[0]:
            best = (mse, shift, offset)
    if best is None:
        return LeadScore(0.0, float("nan"), 0.0, float("nan"), 0.0, 0.0)
    _, shift, offset = best
    r, e = _overlap(ref, est, shift)
    both = np.isfinite(r) & np.isfinite(e)
    r, e = r[both], e[both] + offset
    signal = float(np.sum(r**2))
    noise = float(np.sum((r - e) ** 2))
    raw = 10.0 * np.log10(max(signal, 1e-12) / max(noise, 1e-12))
    coverage = both.sum() / n_ref
    return LeadScore(float(raw * coverage), float(raw), float(coverage), pearson(r, e), shift / fs, offset)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equal-length arrays (NaN when undefined)."""
    if a.size < 3:
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    denom = float(np.sqrt(np.sum(a * a) * np.sum(b * b)))
    return float(np.sum(a * b) / denom) if denom > 0 else float("nan")


def _overlap(ref: np.ndarray, est: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """``ref[t]`` against ``est[t - shift]`` on the samples where both indices exist."""
    if shift >= 0:
        return ref[shift:], est[: est.size - shift]
    return ref[: ref.size + shift], est[-shift:]


def record_scores(
    reference: np.ndarray, estimate: np.ndarray, fs: float, leads: tuple[str, ...]
) -> dict[str, LeadScore]:
    """Score every lead the reference has (``(n_leads, n_samples)`` arrays in mV); missing estimates score 0 dB."""
    scores = {}
    for i, name in enumerate(leads):
        if not np.isfinite(reference[i]).any():
            continue
        est = estimate[i] if i < estimate.shape[0] else np.full(reference.shape[1], np.nan)
        scores[name] = lead_score(reference[i], est, fs)
    return scores


def record_snr(scores: dict[str, LeadScore]) -> float:
    """Mean challenge SNR (dB) over a record's scored leads."""
    return float(np.mean([s.snr_db for s in scores.values()])) if scores else float("nan")
