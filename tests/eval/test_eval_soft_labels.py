"""Soft-label metrics (predicted probabilities against vote counts) against scipy / sklearn, and in the
report of a dataset whose items carry votes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import entropy
from sklearn.metrics import log_loss

from emoreason.eval import metrics as M
from emoreason.eval.datasets.base import EvalItem, LoadedDataset
from emoreason.eval.harness import Prediction
from emoreason.eval.report import score_system, to_markdown
from emoreason.labels import CANONICAL


def _random(seed: int, n: int = 50):
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, 6, size=(n, 7))
    votes[:, 0] += 1  # every item has a vote
    probs = rng.dirichlet(np.ones(7), size=n)
    as_dicts = lambda a: [dict(zip(CANONICAL, row.tolist(), strict=True)) for row in a]  # noqa: E731
    return votes, probs, as_dicts(votes), as_dicts(probs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kl_and_cross_entropy_match_scipy(seed):
    votes, probs, v, p = _random(seed)
    shares = votes / votes.sum(1, keepdims=True)
    kl = np.mean([entropy(s, q) for s, q in zip(shares, probs)])
    assert M.soft_kl(v, p) == pytest.approx(kl, rel=1e-9)
    assert M.soft_cross_entropy(v, p) == pytest.approx(kl + np.mean([entropy(s) for s in shares]), rel=1e-9)


def test_cross_entropy_with_one_hot_votes_is_sklearn_log_loss():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 7, size=40)
    probs = rng.dirichlet(np.ones(7), size=40)
    v = [{CANONICAL[k]: 10} for k in y]
    p = [dict(zip(CANONICAL, row.tolist(), strict=True)) for row in probs]
    assert M.soft_cross_entropy(v, p) == pytest.approx(log_loss(y, probs, labels=range(7)), rel=1e-9)


def test_kl_is_zero_when_probabilities_equal_the_vote_shares_and_floors_zero_probabilities():
    v = [{"happy": 6, "sad": 4}]
    assert M.soft_kl(v, [{"happy": 0.6, "sad": 0.4}]) == pytest.approx(0.0, abs=1e-6)
    # a probability of 0 on a voted class is floored, not infinite
    assert np.isfinite(M.soft_cross_entropy(v, [{"happy": 1.0}]))
    with pytest.raises(ValueError, match="at least one vote"):
        M.soft_kl([{"happy": 0}], [{"happy": 1.0}])


def test_plurality_accuracy_counts_any_tied_top_class():
    votes = [{"neutral": 5, "happy": 5}, {"neutral": 5, "happy": 5}, {"sad": 7, "angry": 3}, {"sad": 7}]
    assert M.plurality_accuracy(votes, ["happy", "neutral", "angry", "sad"]) == pytest.approx(0.75)
    assert M.plurality_accuracy(votes, ["sad"] * 4) == pytest.approx(0.5)


def test_report_scores_items_with_votes():
    items = [EvalItem("a", "happy", "happiness", meta={"votes": {"happy": 8, "neutral": 2}}),
             EvalItem("b", "neutral", "neutral", meta={"votes": {"neutral": 5, "sad": 5}}),
             EvalItem("c", "sad", "sadness", meta={"votes": {"sad": 9, "angry": 1}})]
    data = LoadedDataset("ferplus", "/x", "valid", "ferplus", ("face",), items)
    preds = [Prediction("a", "s", "happy", {"happy": 0.8, "neutral": 0.2}),
             Prediction("b", "s", "sad", {"sad": 0.6, "neutral": 0.4}),
             Prediction("c", "s", error="no face")]
    out = score_system(data, preds, resamples=0)
    soft = out["soft_labels"]
    assert soft["n"] == 2 and soft["plurality_accuracy"] == 1.0  # "sad" ties "neutral" on b
    assert soft["kl"] == pytest.approx(M.soft_kl([items[0].meta["votes"], items[1].meta["votes"]],
                                                 [preds[0].scores, preds[1].scores]))
    report = {"dataset": {"name": "ferplus", "split": "valid", "n_items": 3, "root": "/x", "n_excluded": 0,
                          "excluded": {}, "label_map": "ferplus", "notes": [], "data_hash": "0" * 64},
              "systems": {"s": out}, "provenance": {"bootstrap_resamples": 0, "seed": 0}}
    assert "plurality accuracy 1.000" in to_markdown(report)
