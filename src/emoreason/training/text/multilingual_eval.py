"""Per-language scores of the words models on labelled rows, with :mod:`emoreason.eval.metrics`.

Rows are grouped by ``corpus:language`` (EmoEvent's Spanish and XED's Spanish are different data and
stay apart). Each group gets the number of rows, weighted F1, UAR and accuracy of the model's top label
(all seven canonical labels can be predicted, so a corpus without neutral still pays for a neutral
answer), next to the majority baseline: the training split's most frequent label of that group.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from emoreason.eval import metrics
from emoreason.eval.datasets.text_corpora import TextRow
from emoreason.labels import CANONICAL


def group_key(row: TextRow) -> str:
    return f"{row.corpus}:{row.language}"


def scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    return {"weighted_f1": round(metrics.weighted_f1(y_true, y_pred), 4),
            "uar": round(metrics.uar(y_true, y_pred), 4),
            "accuracy": round(metrics.accuracy(y_true, y_pred), 4)}


def per_language(rows: Sequence[TextRow], probs: np.ndarray,
                 train_rows: Sequence[TextRow] | None = None) -> dict[str, dict]:
    """``{"corpus:lang": {"n", "weighted_f1", "uar", "accuracy"[, "majority": {...}]}}`` for single-label
    ``rows`` and the model's ``(n, 7)`` probabilities (CANONICAL order); with ``train_rows``, the majority
    baseline (each group's most frequent training label) beside it."""
    pred = [CANONICAL[int(k)] for k in np.asarray(probs).argmax(axis=1)]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[group_key(r)].append(i)
    majority = {}
    if train_rows is not None:
        counts: dict[str, Counter] = defaultdict(Counter)
        for r in train_rows:
            counts[group_key(r)][r.single] += 1
        majority = {k: c.most_common(1)[0][0] for k, c in counts.items()}
    out = {}
    for key, idx in sorted(groups.items()):
        truth = [rows[i].single for i in idx]
        out[key] = dict(n=len(idx), **scores(truth, [pred[i] for i in idx]))
        if key in majority:
            out[key]["majority"] = scores(truth, [majority[key]] * len(idx))
    return out


def summary_line(key: str, t: dict) -> str:
    base = t.get("majority")
    tail = f"   majority wF1 {base['weighted_f1']:.3f}" if base else ""
    return (f"{key:12} n={t['n']:5d}  wF1 {t['weighted_f1']:.3f}  UAR {t['uar']:.3f}  "
            f"acc {t['accuracy']:.3f}{tail}")
