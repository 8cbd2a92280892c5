"""AUROC, thresholds and box matching."""

from __future__ import annotations

import itertools

import numpy as np

from classify.train.metrics import (
    auroc,
    best_f1_threshold,
    binary_report,
    bootstrap_ci,
    box_iou,
    detection_report,
    match_boxes,
    youden_threshold,
)


def _pairwise_auroc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    wins = [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg)]
    return float(np.mean(wins))


def test_auroc_equals_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 60)
    s = np.round(rng.random(60) + 0.3 * y, 1)  # rounding makes ties
    assert abs(auroc(y, s) - _pairwise_auroc(y, s)) < 1e-12
    assert np.isnan(auroc(np.ones(5), np.arange(5)))


def test_bootstrap_interval_contains_the_estimate():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    s = rng.random(200) + 0.5 * y
    low, high = bootstrap_ci(y, s, n_boot=200)
    assert low < auroc(y, s) < high and high - low < 0.3


def test_binary_report_counts_and_rates():
    report = binary_report([1, 1, 0, 0, 0], [1, 0, 1, 0, 0])
    assert (report.true_pos, report.false_neg, report.false_pos, report.true_neg) == (1, 1, 1, 2)
    assert report.sensitivity == 0.5 and abs(report.specificity - 2 / 3) < 1e-12 and report.f1 == 0.5


def test_thresholds_separate_separable_scores():
    y = np.array([0, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.7, 0.9])
    for threshold in (best_f1_threshold(y, s), youden_threshold(y, s)):
        assert 0.3 < threshold <= 0.7
        assert binary_report(y, s >= threshold).f1 == 1.0
    assert best_f1_threshold(np.zeros(3), s[:3]) == 0.5


def test_box_matching_is_one_to_one_at_iou_half():
    truth = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], dtype=float)
    predicted = np.array([[1, 0, 11, 10], [0, 0, 10, 10], [40, 0, 50, 10]], dtype=float)
    assert abs(box_iou(predicted[:1], truth[:1])[0, 0] - 90 / 110) < 1e-12
    assert match_boxes(predicted, truth) == (1, 3, 2)
    report = detection_report([(predicted, truth), (np.zeros((0, 4)), truth)])
    assert report["recall"] == 1 / 4 and report["precision"] == 1 / 3
