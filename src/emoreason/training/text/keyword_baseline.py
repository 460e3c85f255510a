"""Two floor baselines for text emotion in any language: the majority class and a learnt keyword list.

``KeywordBaseline.fit`` learns, from single-label training rows of one language, up to ``per_label``
keywords per canonical label: the tokens whose weighted log-odds of appearing in that label's rows
against all other rows (Monroe et al. 2008, "Fightin' words": an informative Dirichlet prior from the
whole training set, the z-score of the log-odds ratio) is highest and above ``min_z``. ``predict`` sums,
for each label, the log-odds of its keywords present in a text and answers the best label; a text with
no keyword (every sum zero) gets the training set's majority class, which also breaks ties.

Tokens: lower-cased ``\\w+`` words; a word in a script written without spaces (CJK, kana, Thai) gives its
character unigrams and bigrams instead. No stemming, no stop list: the z-score down-weights common words.
Scored with :mod:`emoreason.eval.metrics` in ``benchmarks/text_languages_baselines.py``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_WORD = re.compile(r"\w+")
_NO_SPACES = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def tokens(text: str) -> set[str]:
    """The distinct tokens of ``text``: words, or character uni/bigrams for unspaced scripts."""
    out: set[str] = set()
    for word in _WORD.findall(text.lower()):
        if _NO_SPACES.search(word):
            out.update(word)
            out.update(word[i:i + 2] for i in range(len(word) - 1))
        else:
            out.add(word)
    return out


def majority_label(labels: Iterable[str]) -> str:
    """The most frequent label (ties: the alphabetically first, so the answer is deterministic)."""
    counts = Counter(labels)
    if not counts:
        raise ValueError("no training labels")
    return min(counts, key=lambda lab: (-counts[lab], lab))


@dataclass
class KeywordBaseline:
    """Per-label keyword weights learnt by weighted log-odds; ``predict`` as in the module docstring."""

    per_label: int = 100
    min_z: float = 1.96
    min_count: int = 2
    keywords: dict[str, dict[str, float]] = field(default_factory=dict)
    log_prior: dict[str, float] = field(default_factory=dict)  # the labels seen in training, log share
    majority: str = ""

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> KeywordBaseline:
        if len(texts) != len(labels) or not texts:
            raise ValueError("fit needs as many labels as texts, and at least one")
        docs = [tokens(t) for t in texts]
        total: Counter = Counter()
        by_label: dict[str, Counter] = {}
        for toks, lab in zip(docs, labels):
            total.update(toks)
            by_label.setdefault(lab, Counter()).update(toks)
        n_all = sum(total.values())
        n_lab = Counter(labels)
        self.majority = majority_label(labels)
        self.log_prior = {lab: math.log(k / len(labels)) for lab, k in n_lab.items()}
        prior_scale = 500.0 / max(1, n_all)  # prior strength: a pseudo-corpus of 500 token draws
        self.keywords = {}
        for lab, counts in by_label.items():
            n_i = sum(counts.values())
            n_j = n_all - n_i
            scored = []
            for tok, k_all in total.items():
                y_i = counts.get(tok, 0)
                if y_i < self.min_count:
                    continue
                a = k_all * prior_scale
                a0 = 500.0
                y_j = k_all - y_i
                delta = (math.log((y_i + a) / (n_i + a0 - y_i - a))
                         - math.log((y_j + a) / (n_j + a0 - y_j - a))) if n_j > 0 else 0.0
                var = 1.0 / (y_i + a) + 1.0 / (y_j + a)
                z = delta / math.sqrt(var)
                if z >= self.min_z:
                    scored.append((z, tok, delta))
            scored.sort(reverse=True)
            self.keywords[lab] = {tok: delta for _, tok, delta in scored[:self.per_label]}
        return self

    def scores(self, text: str) -> dict[str, float]:
        """Each label's summed keyword log-odds in ``text`` (0 for a label with no keyword there)."""
        toks = tokens(text)
        return {lab: sum(w for tok, w in self.keywords.get(lab, {}).items() if tok in toks)
                for lab in self.log_prior}

    def predict(self, texts: Iterable[str]) -> list[str]:
        if not self.log_prior:
            raise ValueError("KeywordBaseline.predict before fit")
        out = []
        for text in texts:
            s = self.scores(text)
            best = max(s.values())
            winners = sorted(lab for lab, v in s.items() if v == best)
            out.append(self.majority if best <= 0 or self.majority in winners else winners[0])
        return out

    def top_keywords(self, label: str, n: int = 10) -> list[str]:
        """The ``n`` strongest keywords of ``label`` (for the benchmark's printout and docs)."""
        kw = self.keywords.get(label, {})
        return sorted(kw, key=lambda t: -kw[t])[:n]
