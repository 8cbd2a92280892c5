"""Agreement statistics against hand-computed cases."""

import numpy as np
import pytest

from classify.agreement import accuracy, cohen_kappa, confusion, fleiss_kappa, mcnemar


def _pairs(table):
    """Rater sequences realising a 2×2 table [[a0b0, a0b1], [a1b0, a1b1]]."""
    a, b = [], []
    for i in range(2):
        for j in range(2):
            a += [i] * table[i][j]
            b += [j] * table[i][j]
    return a, b


def test_cohen_kappa_and_its_ci_match_the_hand_computation():
    # po = 0.7, pe = 0.5·0.6 + 0.5·0.4 = 0.5 → κ = 0.4; FCE-1969 variance 0.2016 / (50·0.25) → SE 0.12700
    a, b = _pairs([[20, 5], [10, 15]])
    k = cohen_kappa(a, b)
    assert k.kappa == pytest.approx(0.4)
    assert k.observed_agreement == pytest.approx(0.7)
    assert k.ci95[0] == pytest.approx(0.4 - 1.959964 * 0.127000, abs=1e-4)
    assert k.ci95[1] == pytest.approx(0.4 + 1.959964 * 0.127000, abs=1e-4)
    assert k.n == 50


def test_cohen_kappa_perfect_and_undefined():
    assert cohen_kappa([0, 1, 1, 0], [0, 1, 1, 0]).kappa == pytest.approx(1.0)
    constant = cohen_kappa([1, 1, 1], [1, 1, 1])
    assert constant.kappa is None and constant.observed_agreement == 1.0
    assert cohen_kappa([], []).kappa is None


def test_fleiss_kappa_hand_computed():
    # p_j = (0.5, 0.5) → Pe = 0.5; P_i = 1, 1, 1/3, 1/3 → P̄ = 2/3 → κ = 1/3
    ratings = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 0], [0, 0, 1]])
    k = fleiss_kappa(ratings)
    assert k.kappa == pytest.approx(1 / 3)
    # null SE: 2/(4·3·2) · ((0.5)^2 − 0) / 0.25^2... q = p(1−p) = 0.25 each → Σq = 0.5, Σq(1−2p) = 0
    se = np.sqrt(2 / (4 * 3 * 2) * (0.5**2) / 0.5**2)
    assert k.ci95[1] - k.kappa == pytest.approx(1.959964 * se, abs=1e-6)


def test_fleiss_equals_cohen_like_value_for_identical_raters():
    ratings = np.array([[0, 0, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0]])
    assert fleiss_kappa(ratings).kappa == pytest.approx(1.0)


def test_mcnemar_exact_and_chi_squared():
    a, b = _pairs([[40, 5], [10, 45]])  # a1b0 = 10, a0b1 = 5
    exact = mcnemar(a, b)
    assert (exact.b, exact.c) == (10, 5)
    assert exact.method == "exact binomial"
    assert exact.p_value == pytest.approx(0.30175781, abs=1e-6)  # 2·P(X ≤ 5 | n=15, ½)
    a, b = _pairs([[40, 10], [30, 45]])
    chi = mcnemar(a, b)
    assert chi.statistic == pytest.approx(361 / 40)
    assert chi.p_value == pytest.approx(0.0026635, abs=1e-6)


def test_accuracy():
    reference = [1, 1, 1, 0, 0, 0, 0]
    predicted = [1, 1, 0, 1, 0, 0, 0]
    acc = accuracy(predicted, reference)
    assert acc.support == 3
    assert acc.sensitivity == pytest.approx(2 / 3)
    assert acc.specificity == pytest.approx(3 / 4)
    assert acc.ppv == pytest.approx(2 / 3)
    assert acc.f1 == pytest.approx(4 / 6)
    assert confusion(reference, predicted).tolist() == [[3, 1], [1, 2]]
