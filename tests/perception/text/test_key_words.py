"""The fast key-word search (one network finds the word, the ensemble measures its drop) beside the exact
one (every variant through the whole ensemble): words from the sentence, deterministic, the same word where
one word carries the sentence, and labels and scores untouched."""

from __future__ import annotations

import pytest

from emoreason.errors import ConfigError
from emoreason.perception.text import key_words as key_words_module
from emoreason.perception.text.analyzer import TextAnalyzer
from emoreason.perception.text.key_words import MIN_KEY_WORD_DROP

SENTENCES = ["I can't believe you did that", "This is the worst day of my life", "I love you so much!",
             "Get out of my house right now", "ok", "We are going to the store later"]
ONE_WORD = "the meeting is at noon and I am furious"  # one emotional word in plain words


@pytest.fixture(scope="module")
def analyzers() -> tuple[TextAnalyzer, TextAnalyzer]:
    return TextAnalyzer(key_words="fast"), TextAnalyzer(key_words="exact")


def _requests(analyzer: TextAnalyzer, texts: list[str]) -> list[tuple[str, int]]:
    return [(t, int(k)) for t, k in zip(texts, analyzer.score_texts(texts).argmax(axis=1))]


def test_fast_key_words_are_words_of_the_sentence_and_deterministic(analyzers):
    fast, _ = analyzers
    requests = _requests(fast, SENTENCES)
    got = fast._key_words(requests)
    assert got == fast._key_words(requests)
    for g, w in zip(got, [fast._key_word(t, k) for t, k in requests]):  # batched as one by one
        assert (g is None) == (w is None)
        assert g is None or (g[0], g[2]) == (w[0], w[2]) and g[1] == pytest.approx(w[1], abs=1e-6)
    assert any(g is not None for g in got) and got[SENTENCES.index("ok")] is None  # one word: no search
    for (text, _), g in zip(requests, got):
        if g is not None:
            word, drop, k = g
            assert word in text.split()[k] and drop >= MIN_KEY_WORD_DROP


def test_fast_equals_exact_where_one_word_carries_the_sentence(analyzers):
    fast, exact = analyzers
    request = _requests(fast, [ONE_WORD])
    got, want = fast._key_words(request)[0], exact._key_words(request)[0]
    assert want is not None and want[0] == "furious"
    assert got[0] == want[0] and got[2] == want[2]
    assert got[1] == pytest.approx(want[1], abs=1e-6)  # the drop is the ensemble's in both


def test_fast_with_every_word_a_candidate_is_the_exact_search(analyzers, monkeypatch):
    fast, exact = analyzers
    requests = _requests(fast, SENTENCES) + [(SENTENCES[1], 0)]
    monkeypatch.setattr(key_words_module, "KEY_WORD_CANDIDATES", 99)
    monkeypatch.setattr(key_words_module, "KEY_WORD_GAP", 2.0)  # every candidate confirmed
    monkeypatch.setattr(key_words_module, "SKIP_AFTER_WORDS", 99)  # every word tried
    monkeypatch.setattr(key_words_module, "PRIOR_AFTER_WORDS", 99)
    got, want = fast._key_words(requests), exact._key_words(requests)
    assert any(w is not None for w in want)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        assert g is None or (g[0], g[2]) == (w[0], w[2]) and g[1] == pytest.approx(w[1], abs=1e-6)


def test_fast_key_words_leave_labels_and_scores_unchanged(analyzers):
    fast, exact = analyzers
    contexts = [None, ["hi", "what happened?"], None, ["no"], None, None]
    a, b = fast.analyze_many(SENTENCES, contexts), exact.analyze_many(SENTENCES, contexts)
    for x, y in zip(a, b):
        assert x.scores == y.scores
        assert [(t.scores, t.weight) for t in x.timeline] == [(t.scores, t.weight) for t in y.timeline]
        assert [e for e in x.evidence if e.name != "key word"] == \
            [e for e in y.evidence if e.name != "key word"]


def test_unknown_key_word_method_is_a_config_error():
    with pytest.raises(ConfigError, match="key_words"):
        TextAnalyzer(key_words="gradient")
