"""Classification and regression metrics for emotion recognition, computed with numpy.

Conventions (the ones the DFEW / MAFW papers use):

* **WAR** (weighted average recall) is plain accuracy: every item counts once.
* **UAR** (unweighted average recall) is the mean of the per-class recalls over the classes that occur
  in the reference labels; a class never present in the reference is left out (its recall is undefined).
* **macro F1** averages per-class F1 over ``labels`` (by default the classes present in the reference);
  **weighted F1** weights each class' F1 by its number of reference items (sklearn's ``weighted``).
* A prediction outside ``labels`` (say the model answers ``surprised`` on a corpus without that class)
  is simply wrong: it costs the true class a recall point and adds no precision anywhere.
* **Soft labels** (corpora with annotators' vote counts, FER+): cross-entropy and KL of the predicted
  probabilities against each item's vote distribution, and "plurality accuracy": the prediction is one
  of the classes with the most votes.

Each function agrees with its scikit-learn counterpart; tests/eval/test_eval_metrics.py checks that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from emoreason.labels import CANONICAL


def class_order(y_true: Sequence[str], y_pred: Sequence[str] = ()) -> list[str]:
    """Classes present in ``y_true`` (and ``y_pred``), canonical labels first in canonical order."""
    present = set(y_true) | set(y_pred)
    ordered = [lab for lab in CANONICAL if lab in present]
    return ordered + sorted(present - set(CANONICAL))


def _check(y_true: Sequence[str], y_pred: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("no items to score")
    return np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)


def confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> np.ndarray:
    """Counts ``C[i, j]`` of items with reference ``labels[i]`` predicted as ``labels[j]``.

    Items whose reference or prediction is not in ``labels`` are not counted (sklearn's behaviour).
    """
    t, p = _check(y_true, y_pred)
    labels = list(labels) if labels is not None else class_order(y_true, y_pred)
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for a, b in zip(t, p):
        if a in index and b in index:
            cm[index[a], index[b]] += 1
    return cm


@dataclass
class PerClass:
    """Per-class precision, recall, F1 and support (reference count), aligned with ``labels``."""

    labels: list[str]
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            lab: {
                "precision": float(self.precision[i]),
                "recall": float(self.recall[i]),
                "f1": float(self.f1[i]),
                "support": int(self.support[i]),
            }
            for i, lab in enumerate(self.labels)
        }


def per_class(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> PerClass:
    """Precision, recall and F1 of each class (0 where undefined, as sklearn's ``zero_division=0``).

    F1 is computed as sklearn computes it, ``2 tp / (support + predicted)``, so the values agree with
    sklearn's to the last bit, not only to rounding.
    """
    t, p = _check(y_true, y_pred)
    labels = list(labels) if labels is not None else class_order(y_true)
    tp = np.array([np.sum((t == lab) & (p == lab)) for lab in labels], dtype=float)
    n_pred = np.array([np.sum(p == lab) for lab in labels], dtype=float)
    support = np.array([np.sum(t == lab) for lab in labels], dtype=float)
    precision = np.where(n_pred > 0, tp / np.maximum(n_pred, 1), 0.0)
    recall = np.where(support > 0, tp / np.maximum(support, 1), 0.0)
    denom = support + n_pred
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return PerClass(labels, precision, recall, f1, support.astype(np.int64))


def accuracy(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    t, p = _check(y_true, y_pred)
    return float(np.mean(t == p))


def war(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Weighted average recall: equal to accuracy (DFEW/MAFW convention)."""
    return accuracy(y_true, y_pred)


def uar(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Unweighted average recall: the mean recall over the classes present in ``y_true``."""
    pc = per_class(y_true, y_pred, class_order(y_true))
    return float(np.mean(pc.recall))


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> float:
    pc = per_class(y_true, y_pred, labels if labels is not None else class_order(y_true))
    return float(np.mean(pc.f1))


def weighted_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> float:
    pc = per_class(y_true, y_pred, labels if labels is not None else class_order(y_true))
    total = pc.support.sum()
    return float(np.sum(pc.f1 * pc.support) / total) if total > 0 else 0.0


def mse(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if t.shape != p.shape or t.size == 0:
        raise ValueError("mse needs two non-empty sequences of equal length")
    return float(np.mean((t - p) ** 2))


def ccc(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Lin's concordance correlation coefficient (population variances, as in the AVEC challenges).

    ``2 cov(t, p) / (var t + var p + (mean t - mean p)^2)``; 0 when both series are constant and differ,
    1 when they are identical constants.
    """
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if t.shape != p.shape or t.size == 0:
        raise ValueError("ccc needs two non-empty sequences of equal length")
    mt, mp = t.mean(), p.mean()
    cov = np.mean((t - mt) * (p - mp))
    denom = t.var() + p.var() + (mt - mp) ** 2
    if denom == 0:
        return 1.0
    return float(2 * cov / denom)


def classification_summary(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    """The headline numbers in one dict: accuracy, war, uar, macro_f1, weighted_f1."""
    return {
        "accuracy": accuracy(y_true, y_pred),
        "war": war(y_true, y_pred),
        "uar": uar(y_true, y_pred),
        "macro_f1": macro_f1(y_true, y_pred),
        "weighted_f1": weighted_f1(y_true, y_pred),
    }


#: Headline metric functions by name, for bootstrapping.
CLASSIFICATION_METRICS = {
    "accuracy": accuracy,
    "war": war,
    "uar": uar,
    "macro_f1": macro_f1,
    "weighted_f1": weighted_f1,
}


# ---- soft labels: predicted probabilities against annotators' votes (FER+) -------------------------------
#: Predicted probabilities are floored here (and renormalised) before their log.
PROB_FLOOR = 1e-7


def _soft_arrays(votes: Sequence[Mapping[str, float]], probs: Sequence[Mapping[str, float]],
                 labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row-normalised vote distributions and floored, renormalised predictions over ``labels``."""
    if len(votes) != len(probs):
        raise ValueError(f"votes has {len(votes)} items but probs has {len(probs)}")
    if len(votes) == 0:
        raise ValueError("no items to score")
    v = np.array([[float(row.get(lab, 0.0)) for lab in labels] for row in votes])
    p = np.array([[float(row.get(lab, 0.0)) for lab in labels] for row in probs])
    if np.any(v < 0) or np.any(v.sum(1) <= 0):
        raise ValueError("every item needs at least one vote on the classes scored, and no negative votes")
    v = v / v.sum(1, keepdims=True)
    p = np.maximum(p, PROB_FLOOR)
    return v, p / p.sum(1, keepdims=True)


def soft_cross_entropy(votes: Sequence[Mapping[str, float]], probs: Sequence[Mapping[str, float]],
                       labels: Sequence[str] = CANONICAL) -> float:
    """Mean cross-entropy (nats) ``-sum_c v_c log p_c`` of the predicted probabilities against each item's
    vote distribution over ``labels`` (votes normalised per item; probabilities floored at
    :data:`PROB_FLOOR` and renormalised). With one-hot votes it is sklearn's ``log_loss``."""
    v, p = _soft_arrays(votes, probs, labels)
    return float(np.mean(-np.sum(v * np.log(p), axis=1)))


def soft_kl(votes: Sequence[Mapping[str, float]], probs: Sequence[Mapping[str, float]],
            labels: Sequence[str] = CANONICAL) -> float:
    """Mean KL divergence (nats) of the predictions from the vote distributions: the cross-entropy minus
    the votes' own entropy (0 when the probabilities equal the vote shares)."""
    v, p = _soft_arrays(votes, probs, labels)
    logv = np.log(np.where(v > 0, v, 1.0))
    return float(np.mean(np.sum(v * (logv - np.log(p)), axis=1)))


def plurality_accuracy(votes: Sequence[Mapping[str, float]], y_pred: Sequence[str],
                       labels: Sequence[str] = CANONICAL) -> float:
    """Share of items whose predicted label is one of the classes with the most votes (ties: any of them
    counts) among ``labels``."""
    if len(votes) != len(y_pred):
        raise ValueError(f"votes has {len(votes)} items but y_pred has {len(y_pred)}")
    if len(votes) == 0:
        raise ValueError("no items to score")
    hits = 0
    for row, pred in zip(votes, y_pred):
        counts = {lab: float(row.get(lab, 0.0)) for lab in labels}
        top = max(counts.values())
        hits += int(pred in counts and top > 0 and counts[pred] == top)
    return hits / len(votes)


def soft_label_summary(votes: Sequence[Mapping[str, float]], probs: Sequence[Mapping[str, float]],
                       y_pred: Sequence[str], labels: Sequence[str] = CANONICAL) -> dict[str, float]:
    """The soft-label numbers in one dict: ``cross_entropy``, ``kl`` and ``plurality_accuracy``, ``n``."""
    return {"n": len(votes), "cross_entropy": soft_cross_entropy(votes, probs, labels),
            "kl": soft_kl(votes, probs, labels),
            "plurality_accuracy": plurality_accuracy(votes, y_pred, labels)}
