"""Evaluation figures for the classifiers (numpy only): AUROC with a bootstrap CI, per-class sensitivity /
specificity / F1, threshold choice on validation data, and box matching for the beat detector."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def auroc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U with mid-ranks for ties); NaN when one class is missing."""
    y_true = np.asarray(y_true, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int(y_true.sum()), int((~y_true).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    sorted_scores = score[order]
    # mid-ranks for ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    mid = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(mid, counts)
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def bootstrap_ci(
    y_true: np.ndarray, score: np.ndarray, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of :func:`auroc` (resampling records with replacement)."""
    y_true, score = np.asarray(y_true, dtype=bool), np.asarray(score, dtype=np.float64)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y_true), len(y_true))
        value = auroc(y_true[idx], score[idx])
        if np.isfinite(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1.0 - alpha))


@dataclass(frozen=True)
class BinaryReport:
    """Confusion counts and rates of one binary decision (NaN where a rate is undefined)."""

    support: int
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int
    sensitivity: float
    specificity: float
    precision: float
    f1: float

    def as_dict(self) -> dict:
        return asdict(self)


def binary_report(y_true: np.ndarray, y_pred: np.ndarray) -> BinaryReport:
    """Counts, sensitivity, specificity, precision and F1 of boolean predictions."""
    y_true, y_pred = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    tp = int((y_true & y_pred).sum())
    fp = int((~y_true & y_pred).sum())
    fn = int((y_true & ~y_pred).sum())
    tn = int((~y_true & ~y_pred).sum())

    def ratio(a: int, b: int) -> float:
        return a / b if b else float("nan")

    f1 = ratio(2 * tp, 2 * tp + fp + fn)
    return BinaryReport(tp + fn, tp, fp, fn, tn, ratio(tp, tp + fn), ratio(tn, tn + fp), ratio(tp, tp + fp), f1)


def best_f1_threshold(y_true: np.ndarray, score: np.ndarray, *, default: float = 0.5) -> float:
    """The threshold on ``score`` maximising F1 (midpoint between neighbouring scores); ``default`` when there is
    no positive example."""
    y_true, score = np.asarray(y_true, dtype=bool), np.asarray(score, dtype=np.float64)
    if not y_true.any():
        return default
    candidates = np.unique(score)
    best, best_f1 = default, -1.0
    for i, cut in enumerate(candidates):
        f1 = binary_report(y_true, score >= cut).f1
        if f1 > best_f1:
            lower = candidates[i - 1] if i > 0 else cut
            best, best_f1 = float((cut + lower) / 2.0) if i > 0 else float(cut), f1
    return best


def youden_threshold(y_true: np.ndarray, score: np.ndarray, *, default: float = 0.5) -> float:
    """The threshold maximising Youden's J = sensitivity + specificity − 1 (``default`` when a class is missing)."""
    y_true, score = np.asarray(y_true, dtype=bool), np.asarray(score, dtype=np.float64)
    if y_true.all() or not y_true.any():
        return default
    candidates = np.unique(score)
    best, best_j = default, -np.inf
    for i, cut in enumerate(candidates):
        report = binary_report(y_true, score >= cut)
        j = report.sensitivity + report.specificity - 1.0
        if j > best_j:
            best, best_j = float((cut + candidates[i - 1]) / 2.0) if i > 0 else float(cut), j
    return best


def choose_thresholds(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    classes: tuple[str, ...],
    *,
    untrained: frozenset[str] = frozenset(),
) -> dict[str, float]:
    """Per-class thresholds maximising F1 on validation data (0.5 without positives; 1.0 for ``untrained``)."""
    out = {}
    for k, name in enumerate(classes):
        if name in untrained:
            out[name] = 1.0
        else:
            out[name] = round(best_f1_threshold(y_true[:, k], probabilities[:, k]), 6)
    return out


def multilabel_report(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    classes: tuple[str, ...],
    thresholds: dict[str, float],
    *,
    min_support: int = 5,
) -> dict:
    """Per-class reports at ``thresholds`` with AUROC, and macro-F1 over classes with support ≥ ``min_support``."""
    per_class = {}
    f1s = []
    for k, name in enumerate(classes):
        report = binary_report(y_true[:, k], probabilities[:, k] >= thresholds[name]).as_dict()
        report["auroc"] = auroc(y_true[:, k], probabilities[:, k])
        report["threshold"] = thresholds[name]
        per_class[name] = report
        if report["support"] >= min_support and np.isfinite(report["f1"]):
            f1s.append(report["f1"])
    macro = float(np.mean(f1s)) if f1s else float("nan")
    return {"per_class": per_class, "macro_f1": macro, "macro_f1_classes": len(f1s), "min_support": min_support}


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU ``(len(a), len(b))`` of ``(x0, y0, x1, y1)`` boxes."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match_boxes(predicted: np.ndarray, truth: np.ndarray, *, iou: float = 0.5) -> tuple[int, int, int]:
    """Greedy one-to-one matching (highest IoU first): ``(true_pos, n_predicted, n_truth)``."""
    predicted = np.asarray(predicted).reshape(-1, 4)
    truth = np.asarray(truth).reshape(-1, 4)
    if len(predicted) == 0 or len(truth) == 0:
        return 0, len(predicted), len(truth)
    overlap = box_iou(predicted, truth)
    matched = 0
    while True:
        i, j = np.unravel_index(np.argmax(overlap), overlap.shape)
        if overlap[i, j] < iou:
            break
        matched += 1
        overlap[i, :] = -1
        overlap[:, j] = -1
    return matched, len(predicted), len(truth)


def detection_report(pairs: list[tuple[np.ndarray, np.ndarray]], *, iou: float = 0.5) -> dict:
    """Recall and precision at ``iou`` over images given as ``(predicted_boxes, truth_boxes)`` pairs."""
    tp = n_pred = n_true = 0
    for predicted, truth in pairs:
        a, b, c = match_boxes(predicted, truth, iou=iou)
        tp, n_pred, n_true = tp + a, n_pred + b, n_true + c
    return {
        "iou": iou,
        "images": len(pairs),
        "true_beats": n_true,
        "detected": n_pred,
        "matched": tp,
        "recall": tp / n_true if n_true else float("nan"),
        "precision": tp / n_pred if n_pred else float("nan"),
    }
