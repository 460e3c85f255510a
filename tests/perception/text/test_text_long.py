"""Runaway cost: a very long text is cut to the server's limit (with a note) and every text step is
linear in its length (VADER was quadratic: 100,000 characters took minutes)."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

import emoreason
from emoreason.perception.text import head as head_mod
from emoreason.perception.text.analyzer import MAX_HISTORY, TextAnalyzer
from emoreason.perception.text.head import VADER_CHUNK_CHARS, split_for_vader, vader_scores
from emoreason.perception.text.transcript import MAX_TEXT_CHARS, Transcript, TranscriptSegment, cap_text

SENTENCES = ["I am so happy today.", "The weather is terrible and I hate it.", "What a lovely surprise!",
             "Nothing much happened.", "I am not sad at all.", "This is awful, truly awful."]


def prose(chars: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(SENTENCES) for _ in range(chars // 20))[:chars]


def test_runaway_cost_vader_never_reads_more_than_a_chunk(monkeypatch):
    seen: list[int] = []
    vader = head_mod._vader()
    real = vader.polarity_scores
    monkeypatch.setattr(vader, "polarity_scores", lambda t: seen.append(len(t)) or real(t))
    text = prose(100_000)
    t0 = time.perf_counter()
    vader_scores(text)
    assert time.perf_counter() - t0 < 10  # whole, it takes 20 s to minutes
    assert max(seen) <= VADER_CHUNK_CHARS and sum(seen) <= len(text)


def test_runaway_cost_vader_pieces_agree_with_whole_text():
    short = prose(VADER_CHUNK_CHARS - 10)
    whole = head_mod._vader().polarity_scores(short)
    assert vader_scores(short) == [whole[k] for k in head_mod.VADER_KEYS]  # short text: exactly VADER
    text = prose(7000, seed=1)
    pieces = split_for_vader(text)
    assert len(pieces) >= 4 and all(len(p) <= VADER_CHUNK_CHARS for p in pieces)
    assert " ".join(pieces).split() == text.split()  # nothing lost or added
    whole = head_mod._vader().polarity_scores(text)
    assert np.allclose(vader_scores(text), [whole[k] for k in head_mod.VADER_KEYS], atol=0.02)


def test_runaway_cost_cap_text_cuts_at_a_space_with_a_note():
    assert cap_text("short") == ("short", None)
    text = prose(50_000)
    cut, note = cap_text(text)
    assert MAX_TEXT_CHARS * 0.9 < len(cut) <= MAX_TEXT_CHARS and text.startswith(cut)
    assert text[len(cut)] == " " and "50,000" in note and f"{len(cut):,}" in note


def test_runaway_cost_long_text_is_cut_with_a_note():
    emoreason.analyze(text="warm up")  # load the models outside the timing
    t0 = time.perf_counter()
    r = emoreason.analyze(text=prose(100_000))
    seconds = time.perf_counter() - t0
    assert r.modalities["text"].used and len(r.transcript) <= MAX_TEXT_CHARS
    assert any("100,000 characters" in n and "first" in n for n in r.notes)
    assert seconds < 60, seconds  # 9 minutes before
    short = emoreason.analyze(text="What a lovely surprise!")
    assert not any("characters" in n for n in short.notes)


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def test_runaway_cost_histories_bounded_for_many_segments(analyzer, monkeypatch):
    seen: list[list[list[str]]] = []
    real = analyzer.score_texts

    def spy(texts, histories=None, **kwargs):
        seen.append(histories)
        return real(texts, histories, **kwargs)

    monkeypatch.setattr(analyzer, "score_texts", spy)
    segs = [TranscriptSegment(float(i), i + 1.0, SENTENCES[i % len(SENTENCES)]) for i in range(40)]
    analyzer.analyze(Transcript(segs, source="user"), context=["hello", "hi"])
    histories = seen[0]
    assert max(len(h) for h in histories) == MAX_HISTORY
    assert histories[0] == ["hello", "hi"] and histories[1] == ["hello", "hi", SENTENCES[0]]
    assert histories[-1] == [SENTENCES[i % len(SENTENCES)] for i in range(39 - MAX_HISTORY, 39)]
