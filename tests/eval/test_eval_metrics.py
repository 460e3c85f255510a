"""Each metric against scikit-learn on random and edge-case label sequences."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from emoreason.eval import metrics as M
from emoreason.eval.bootstrap import bootstrap_ci
from emoreason.labels import CANONICAL


def _random_pairs(seed: int, n: int = 300, n_true: int = 7, n_pred: int = 7):
    rng = np.random.default_rng(seed)
    t = list(rng.choice(CANONICAL[:n_true], size=n, p=None))
    # correlated predictions: 60 % copies, the rest random (possibly outside the reference classes)
    p = [a if rng.random() < 0.6 else str(rng.choice(CANONICAL[:n_pred])) for a in t]
    return t, p


@pytest.mark.parametrize("seed,n_true,n_pred", [(0, 7, 7), (1, 4, 7), (2, 7, 3), (3, 2, 2), (4, 5, 6)])
def test_metrics_match_sklearn(seed, n_true, n_pred):
    t, p = _random_pairs(seed, n_true=n_true, n_pred=n_pred)
    labels = M.class_order(t)
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    assert M.war(t, p) == pytest.approx(skm.accuracy_score(t, p))
    assert M.uar(t, p) == pytest.approx(
        skm.recall_score(t, p, labels=labels, average="macro", zero_division=0)
    )
    # F1 to the last bit: computed as sklearn computes it
    assert M.macro_f1(t, p) == skm.f1_score(t, p, labels=labels, average="macro", zero_division=0)
    assert M.weighted_f1(t, p) == skm.f1_score(t, p, labels=labels, average="weighted", zero_division=0)
    pc = M.per_class(t, p, labels)
    prec, rec, f1, sup = skm.precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    np.testing.assert_allclose(pc.precision, prec)
    np.testing.assert_allclose(pc.recall, rec)
    np.testing.assert_array_equal(pc.f1, f1)
    np.testing.assert_array_equal(pc.support, sup)
    union = M.class_order(t, p)
    np.testing.assert_array_equal(M.confusion_matrix(t, p, union), skm.confusion_matrix(t, p, labels=union))


def test_uar_equals_balanced_accuracy_when_predictions_stay_inside_reference_classes():
    t, p = _random_pairs(5, n_true=7, n_pred=7)
    assert set(p) <= set(t)
    assert M.uar(t, p) == pytest.approx(skm.balanced_accuracy_score(t, p))


def test_uar_differs_from_war_on_imbalanced_data():
    t = ["neutral"] * 90 + ["sad"] * 10
    p = ["neutral"] * 100  # the majority-class guesser
    assert M.war(t, p) == pytest.approx(0.9)
    assert M.uar(t, p) == pytest.approx(0.5)
    assert M.macro_f1(t, p) == pytest.approx(skm.f1_score(t, p, average="macro", zero_division=0))


def test_prediction_outside_reference_classes_counts_as_wrong():
    t = ["happy", "sad", "sad"]
    p = ["surprised", "sad", "sad"]
    assert M.accuracy(t, p) == pytest.approx(2 / 3)
    assert M.uar(t, p) == pytest.approx(0.5)  # happy recall 0, sad recall 1
    assert M.class_order(t) == ["happy", "sad"]


def test_ccc_and_mse():
    rng = np.random.default_rng(0)
    t = rng.uniform(-1, 1, 200)
    p = 0.5 * t + rng.normal(0, 0.2, 200) + 0.1
    assert M.mse(t, p) == pytest.approx(skm.mean_squared_error(t, p))
    cov = np.mean((t - t.mean()) * (p - p.mean()))
    expected = 2 * cov / (t.var() + p.var() + (t.mean() - p.mean()) ** 2)
    assert M.ccc(t, p) == pytest.approx(expected)
    assert M.ccc(t, t) == pytest.approx(1.0)
    assert M.ccc(t - t.mean(), t.mean() - t) == pytest.approx(-1.0)
    assert M.ccc(t, t + 0.5) < 1.0  # a constant bias is penalised, unlike Pearson's r
    assert np.corrcoef(t, t + 0.5)[0, 1] == pytest.approx(1.0)


def test_errors_on_bad_input():
    with pytest.raises(ValueError):
        M.accuracy(["happy"], [])
    with pytest.raises(ValueError):
        M.accuracy([], [])
    with pytest.raises(ValueError):
        M.ccc([1.0, 2.0], [1.0])


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    t, p = _random_pairs(7, n=200)
    a = bootstrap_ci(M.uar, t, p, resamples=300, seed=3)
    b = bootstrap_ci(M.uar, t, p, resamples=300, seed=3)
    c = bootstrap_ci(M.uar, t, p, resamples=300, seed=4)
    assert a == b
    assert a != c
    assert a.low < a.value < a.high
    assert a.value == pytest.approx(M.uar(t, p))
    # the interval narrows with more data (same accuracy level)
    wide = bootstrap_ci(M.accuracy, t[:40], p[:40], resamples=300, seed=0)
    assert (wide.high - wide.low) > (a.high - a.low) * 1.3


def test_bootstrap_interval_covers_known_accuracy():
    rng = np.random.default_rng(11)
    t = ["happy"] * 1000
    p = ["happy" if rng.random() < 0.7 else "sad" for _ in t]
    ci = bootstrap_ci(M.accuracy, t, p, resamples=500, seed=0)
    assert ci.low < 0.7 < ci.high
    assert 0.02 < ci.high - ci.low < 0.08  # about 2 * 1.96 * sqrt(.21 / 1000) = 0.057


def test_bootstrap_numeric_and_no_resamples():
    ci = bootstrap_ci(M.ccc, [0.1, 0.2, 0.5, 0.9], [0.0, 0.3, 0.4, 1.0], resamples=0)
    assert np.isnan(ci.low) and ci.resamples == 0
    assert ci.value == pytest.approx(M.ccc([0.1, 0.2, 0.5, 0.9], [0.0, 0.3, 0.4, 1.0]))
