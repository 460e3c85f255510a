"""The keyword baseline: tokens per script, learnt keywords, the majority fallback."""

from __future__ import annotations

import pytest

from emoreason.training.text.keyword_baseline import KeywordBaseline, majority_label, tokens


def test_tokens_words_and_unspaced_scripts():
    assert tokens("I HATE this, hate it!") == {"i", "hate", "this", "it"}
    assert tokens("撞车了") == {"撞", "车", "了", "撞车", "车了"}


def test_majority_label_is_deterministic_on_ties():
    assert majority_label(["sad", "happy", "sad", "happy"]) == "happy"
    with pytest.raises(ValueError):
        majority_label([])


def test_learns_keywords_and_falls_back_to_the_majority():
    texts = [f"i hate you {i}" for i in range(20)] + [f"so happy today {i}" for i in range(12)] + \
        [f"the bus comes {i}" for i in range(30)]
    labels = ["angry"] * 20 + ["happy"] * 12 + ["neutral"] * 30
    model = KeywordBaseline().fit(texts, labels)
    assert "hate" in model.top_keywords("angry") and "happy" in model.top_keywords("happy")
    assert model.predict(["you hate me", "a happy dog", "zebra crossing"]) == ["angry", "happy", "neutral"]
    assert "17" not in model.keywords["angry"]  # seen once per label: below min_count


def test_predict_before_fit_and_bad_fit():
    with pytest.raises(ValueError):
        KeywordBaseline().predict(["x"])
    with pytest.raises(ValueError):
        KeywordBaseline().fit(["a", "b"], ["happy"])

