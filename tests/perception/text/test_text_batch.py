"""Many texts at once: ``analyze_texts`` gives what a loop of ``analyze`` calls gives, and the batched
key-word search chooses what one-sentence-at-a-time occlusion chooses."""

from __future__ import annotations

import numpy as np
import pytest

import emoreason
from emoreason.errors import ConfigError, NoUsableModalityError
from emoreason.perception.text.analyzer import TextAnalyzer
from emoreason.perception.text.key_words import MIN_KEY_WORD_DROP, PUNCTUATION

SENTENCES = ["I can't believe you did that", "This is the worst day of my life", "I love you so much!",
             "ok", "Get out of my house right now"]


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def _one_by_one(analyzer: TextAnalyzer, text: str, label_index: int):
    """The occlusion search as it ran before batching: one sentence's variants scored on their own."""
    words = text.split()
    if len(words) < 2:
        return None
    variants = [text] + [" ".join(words[:k] + words[k + 1:]) for k in range(len(words))]
    scored = analyzer.score_texts(variants, [[] for _ in variants])[:, label_index]
    k = int(np.argmin(scored[1:]))
    drop = float(scored[0] - scored[1 + k])
    return (words[k].strip(PUNCTUATION), drop, k) if drop >= MIN_KEY_WORD_DROP else None


def test_batched_key_words_equal_one_by_one_occlusion(analyzer):
    labels = analyzer.score_texts(SENTENCES).argmax(axis=1)
    requests = [(t, int(k)) for t, k in zip(SENTENCES, labels)] + [(SENTENCES[0], 0)]
    got = analyzer._key_words(requests, "exact")
    want = [_one_by_one(analyzer, t, k) for t, k in requests]
    assert len(got) == len(want) and any(w is not None for w in want)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert g[0] == w[0] and g[2] == w[2] and g[1] == pytest.approx(w[1], abs=1e-6)


def test_analyze_texts_equals_a_loop_of_analyze_calls():
    contexts = [None, ["hi", "what happened?"], None, None, ["no"]]
    many = emoreason.analyze_texts(SENTENCES, contexts=contexts)
    assert len(many) == len(SENTENCES)
    for text, ctx, got in zip(SENTENCES, contexts, many):
        want = emoreason.analyze(text=text, context=ctx).to_dict()
        got = got.to_dict()
        for d in (got, want):
            d["provenance"].pop("timings")
        assert got == want
    relabelled = emoreason.analyze_texts(SENTENCES[:2], labels="meld")
    assert [r.label for r in relabelled] == [emoreason.analyze(text=t, labels="meld").label
                                             for t in SENTENCES[:2]]


def test_analyze_texts_refuses_bad_lists_before_any_work():
    with pytest.raises(ConfigError, match="list of strings"):
        emoreason.analyze_texts("one string")
    with pytest.raises(ConfigError, match="must hold strings"):
        emoreason.analyze_texts(["fine", 3])
    with pytest.raises(ConfigError, match="one context"):
        emoreason.analyze_texts(["a", "b"], contexts=[None])
    with pytest.raises(NoUsableModalityError, match="text 1"):
        emoreason.analyze_texts(["fine", "  "])
    assert emoreason.analyze_texts([]) == []


def test_repeated_inputs_are_scored_once_with_the_same_result(analyzer, monkeypatch):
    texts, histories = ["ok", "yeah", "ok", "I hate it", "yeah"], [[], ["so?"], [], [], ["so?"]]
    alone = np.stack([analyzer.score_texts([t], [h])[0] for t, h in zip(texts, histories)])
    seen = []
    lora = analyzer.model.loras[0][0]
    original = type(lora).batches  # what each member tokenises and runs
    monkeypatch.setattr(type(lora), "batches",
                        lambda self, t, h=None, **kw: seen.append(len(t)) or original(self, t, h, **kw))
    together = analyzer.score_texts(texts, histories)
    assert seen == [3, 3, 3]  # three distinct inputs, for each of the three LoRA members
    assert np.abs(together - alone).max() < 1e-6 and (together[0] == together[2]).all()


def test_rows_the_first_network_already_scored_are_not_run_through_it_again(analyzer, monkeypatch):
    texts = ["I can't believe you did that", "believe you did that", "ok", "believe you did that"]
    want = analyzer.score_texts(texts, [[] for _ in texts])
    first = np.full((len(texts), 7), np.nan)
    first[[1, 3]] = analyzer.model.key_word_proba(["believe you did that"])[0]  # the key-word search's rows
    seen = []
    lora = analyzer.model.loras[0][0]
    original = type(lora).batches  # what each member tokenises and runs
    monkeypatch.setattr(type(lora), "batches",
                        lambda self, t, h=None: seen.append((self is lora, list(t))) or original(self, t, h))
    got = analyzer.score_texts(texts, [[] for _ in texts], first=first)
    assert [t for own, t in seen if own] == [["I can't believe you did that", "ok"]]  # repeats: once
    assert sum(not own for own, _ in seen) == 2  # the other two members read every distinct row
    assert np.abs(got - want).max() < 1e-6


def test_analyze_texts_records_each_language_as_analyze_does():
    texts = ["Estoy muy feliz hoy, gracias a todos", "This is the worst day of my life"]
    many = emoreason.analyze_texts(texts)
    for text, got in zip(texts, many):
        want = emoreason.analyze(text=text)
        assert (got.language, got.language_probability) == (want.language, want.language_probability)
    assert [r.language for r in many] == ["es", "en"]
    forced = emoreason.analyze_texts(texts[:1], language="es")[0]
    want = emoreason.analyze(text=texts[0], language="es").to_dict()
    got = forced.to_dict()
    assert forced.language == "es" and got == {**want, "provenance": got["provenance"]}
