"""Agreement statistics between label sources over a data set (the evaluators' view).

* Cohen's kappa (Cohen 1960) with its large-sample standard error and 95 % CI (Fleiss, Cohen & Everitt,
  Psychol Bull 72:323, 1969), for two sources on binary labels.
* Fleiss' kappa (Fleiss 1971) for three or more sources rating the same items, with the asymptotic SE of
  Fleiss, Nee & Landis (Psychol Bull 86:974, 1979) under the null hypothesis κ = 0, and a 95 % CI from it.
* McNemar's test with continuity correction (and the exact binomial test when discordant pairs are < 25).
* Sensitivity, specificity and F1 of a source against reference labels.
All inputs are 0/1 sequences of equal length; items where a source is undecided are dropped pairwise by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Kappa:
    kappa: float | None
    ci95: tuple[float, float] | None
    n: int
    observed_agreement: float | None


def confusion(a: Sequence[int], b: Sequence[int]) -> np.ndarray:
    """2×2 counts: rows a = 0/1, columns b = 0/1."""
    x, y = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    if x.shape != y.shape:
        raise ValueError("sequences differ in length")
    m = np.zeros((2, 2), dtype=int)
    np.add.at(m, (x, y), 1)
    return m


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> Kappa:
    """Cohen's kappa of two binary raters with the Fleiss–Cohen–Everitt (1969) standard error and 95 % CI."""
    m = confusion(a, b).astype(float)
    n = m.sum()
    if n == 0:
        return Kappa(None, None, 0, None)
    p = m / n
    po = float(np.trace(p))
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    pe = float(np.dot(rows, cols))
    if pe >= 1.0:  # both raters constant and identical: agreement is perfect but kappa is undefined
        return Kappa(None, None, int(n), po)
    kappa = (po - pe) / (1 - pe)
    # FCE 1969 asymptotic variance (non-null)
    diag = sum(p[i, i] * (1 - (rows[i] + cols[i]) * (1 - kappa)) ** 2 for i in range(2))
    off = (1 - kappa) ** 2 * sum(p[i, j] * (cols[i] + rows[j]) ** 2 for i in range(2) for j in range(2) if i != j)
    last = (kappa - pe * (1 - kappa)) ** 2
    var = max(diag + off - last, 0.0) / (n * (1 - pe) ** 2)
    se = math.sqrt(var)
    return Kappa(kappa, (max(-1.0, kappa - Z95 * se), min(1.0, kappa + Z95 * se)), int(n), po)


def fleiss_kappa(ratings: np.ndarray) -> Kappa:
    """Fleiss' kappa for ``ratings`` of shape (items, raters) with 0/1 entries."""
    r = np.asarray(ratings, dtype=int)
    n_items, n_raters = r.shape
    if n_items == 0 or n_raters < 2:
        return Kappa(None, None, int(n_items), None)
    counts = np.stack([(r == 0).sum(axis=1), (r == 1).sum(axis=1)], axis=1).astype(float)
    p_j = counts.sum(axis=0) / (n_items * n_raters)
    p_i = ((counts**2).sum(axis=1) - n_raters) / (n_raters * (n_raters - 1))
    p_bar, pe = float(p_i.mean()), float((p_j**2).sum())
    if pe >= 1.0:
        return Kappa(None, None, int(n_items), p_bar)
    kappa = (p_bar - pe) / (1 - pe)
    q = p_j * (1 - p_j)
    denom = q.sum() ** 2
    if denom <= 0:
        return Kappa(kappa, None, int(n_items), p_bar)
    var0 = 2 / (n_items * n_raters * (n_raters - 1)) * (q.sum() ** 2 - (q * (1 - 2 * p_j)).sum()) / denom
    se = math.sqrt(max(var0, 0.0))
    return Kappa(kappa, (max(-1.0, kappa - Z95 * se), min(1.0, kappa + Z95 * se)), int(n_items), p_bar)


@dataclass(frozen=True)
class McNemar:
    b: int
    c: int
    statistic: float | None
    p_value: float | None
    method: str


def mcnemar(a: Sequence[int], b: Sequence[int]) -> McNemar:
    """McNemar's test on paired binary decisions (b = a1 b0, c = a0 b1 discordant pairs)."""
    m = confusion(a, b)
    n01, n10 = int(m[1, 0]), int(m[0, 1])
    discordant = n01 + n10
    if discordant == 0:
        return McNemar(n01, n10, None, 1.0, "no discordant pairs")
    if discordant < 25:
        p = float(stats.binomtest(min(n01, n10), discordant, 0.5).pvalue)
        return McNemar(n01, n10, None, p, "exact binomial")
    chi2 = (abs(n01 - n10) - 1) ** 2 / discordant
    return McNemar(n01, n10, chi2, float(stats.chi2.sf(chi2, 1)), "chi-squared with continuity correction")


@dataclass(frozen=True)
class Accuracy:
    support: int
    sensitivity: float | None
    specificity: float | None
    ppv: float | None
    f1: float | None


def accuracy(predicted: Sequence[int], reference: Sequence[int]) -> Accuracy:
    """Sensitivity, specificity, PPV and F1 of ``predicted`` against ``reference`` (support = reference positives)."""
    m = confusion(reference, predicted)
    tn, fp, fn, tp = int(m[0, 0]), int(m[0, 1]), int(m[1, 0]), int(m[1, 1])
    sens = tp / (tp + fn) if tp + fn else None
    spec = tn / (tn + fp) if tn + fp else None
    ppv = tp / (tp + fp) if tp + fp else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return Accuracy(tp + fn, sens, spec, ppv, f1)


# --- the combined screening verdict (a calibrated probability against reference labels) ---------------------
def auroc(reference: Sequence[int], score: Sequence[float]) -> float | None:
    """Area under the ROC curve (Mann–Whitney U with mid-ranks); ``None`` when one class is missing."""
    y = np.asarray(reference, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def auroc_ci(
    reference: Sequence[int], score: Sequence[float], *, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float] | None:
    """Percentile bootstrap 95 % CI of :func:`auroc` (items resampled with replacement)."""
    y, s = np.asarray(reference, dtype=int), np.asarray(score, dtype=np.float64)
    rng = np.random.default_rng(seed)
    values = [v for _ in range(n_boot) if (v := auroc(y[i := rng.integers(0, len(y), len(y))], s[i])) is not None]
    if not values:
        return None
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def wilson_ci(successes: int, n: int) -> tuple[float, float] | None:
    """Wilson score 95 % interval of a proportion (Wilson 1927); ``None`` for n = 0."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def reliability(reference: Sequence[int], probability: Sequence[float], bins: int = 10) -> list[dict[str, float]]:
    """Per probability bin (equal width): count, mean predicted probability, observed abnormal share."""
    y, p = np.asarray(reference, dtype=float), np.asarray(probability, dtype=float)
    index = np.clip((p * bins).astype(int), 0, bins - 1)
    return [
        {"bin": k, "n": int((index == k).sum()), "mean_predicted": float(p[index == k].mean()),
         "observed": float(y[index == k].mean())}
        for k in range(bins) if (index == k).any()
    ]
