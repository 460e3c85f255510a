"""The multilingual head's training pieces on tiny made-up rows: language-balanced weights, the capped
sample, the temperature fit, per-language scores, and the embedding cache (a fake encoder)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from emoreason.eval.datasets.text_corpora import TextRow
from emoreason.labels import CANONICAL
from emoreason.perception.text.multilingual import MultilingualHead
from emoreason.training.text import embed_cache
from emoreason.training.text.multilingual import _cap, fit_logreg, fit_temperature, row_weights
from emoreason.training.text.multilingual_eval import per_language


def _row(i: int, lang: str, label: str, corpus: str = "xed", split: str = "train") -> TextRow:
    return TextRow(f"{lang}{i}", f"text {lang} {i}", (label,), (label,), lang, f"g{i}", split, corpus)


def test_every_language_weighs_the_same_and_classes_follow_the_power():
    rows = [_row(i, "en", "happy" if i % 4 else "sad") for i in range(400)]
    rows += [_row(i, "es", "angry") for i in range(100)]
    for power in (0.0, 0.5, 1.0):
        w = row_weights(rows, power)
        en, es = w[:400].sum(), w[400:].sum()
        assert en == pytest.approx(es) and w.sum() == pytest.approx(len(rows))
    w = row_weights(rows, 1.0)  # full class balance within English: both classes weigh the same
    happy = sum(w[i] for i in range(400) if i % 4)
    assert happy == pytest.approx(w[:400].sum() / 2)
    # a language with fewer than 100 rows weighs by its rows: each as a row of a 100-row language
    small = row_weights(rows[:400] + [_row(0, "xx", "sad")], 0.0)
    assert small[-1] == pytest.approx(small[:400].sum() / 100)


def test_cap_keeps_at_most_n_per_corpus_and_language_deterministically():
    rows = [_row(i, "en", "happy") for i in range(50)] + [_row(i, "en", "sad", "meld") for i in range(5)]
    a, b = _cap(rows, 10, random.Random(0)), _cap(rows, 10, random.Random(0))
    assert a == b and len(a) == 15 and sum(r.corpus == "meld" for r in a) == 5


def test_logreg_head_and_temperature_and_per_language_scores():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 512))
    y = rng.integers(0, 3, 300)
    x = centres[y] + rng.normal(scale=2.0, size=(300, 512))
    head = MultilingualHead("use", np.zeros(512), np.ones(512), fit_logreg(x, y, np.ones(300), 1.0))
    t = fit_temperature(head, x, y)
    assert 0.5 <= t <= 3.0 and head.temperature == t
    probs = head.predict_proba(x)
    assert probs.shape == (300, len(CANONICAL)) and probs[:, 3:].max() < 1e-6  # unseen classes stay off
    rows = [_row(i, "de" if i % 2 else "fi", CANONICAL[k], split="test") for i, k in enumerate(y)]
    table = per_language(rows, probs, train_rows=rows)
    assert set(table) == {"xed:de", "xed:fi"} and table["xed:de"]["n"] == 150
    assert table["xed:de"]["weighted_f1"] > table["xed:de"]["majority"]["weighted_f1"]


class _FakeEncoder:
    name, dim, calls = "fake", 3, 0

    def encode(self, texts):
        self.calls += len(texts)
        return np.asarray([[len(t), t.count("a"), 1.0] for t in texts], np.float32)


def test_embedding_cache_embeds_each_text_once(tmp_path):
    enc = _FakeEncoder()
    first = embed_cache.embed_cached(enc, ["a  b", "ccc", "a b"], tmp_path, log=False)  # "a  b" == "a b"
    assert enc.calls == 2 and np.allclose(first[0], first[2])
    again = embed_cache.embed_cached(_FakeEncoder(), ["ccc", "dddd", "汉字"], tmp_path, log=False)
    assert np.allclose(again[0], first[1]) and again[2, 0] == 2.0
    back = embed_cache.embed_cached(enc2 := _FakeEncoder(), ["汉字", "a b"], tmp_path, log=False)
    assert enc2.calls == 0 and back.shape == (2, 3)
