"""Speech to text: window planning, repetition loops, and a real transcription of espeak-ng speech."""

from __future__ import annotations

import re
from types import SimpleNamespace as NS

import numpy as np
import pytest
import text_fixtures as fx  # noqa: E402  (tests/perception is on pytest's pythonpath)

from emoreason.io.audio import ArrayAudio
from emoreason.perception.speech.asr import (
    MAX_WINDOW_S,
    NOT_ENGLISH_NOTE,
    _decode_window,
    _split_long,
    decoding_stats,
    find_repetition_loop,
    looks_not_english,
    plan_windows,
    transcribe,
    trim_loops,
)
from emoreason.perception.speech.whisper import default_whisper_dir
from emoreason.perception.text.transcript import Word


def _words(text: str) -> list[Word]:
    return [Word(w, i * 0.3, i * 0.3 + 0.25, 0.9) for i, w in enumerate(text.split())]


@pytest.mark.parametrize("text, expected", [
    ("I said no no no no no no no and left", (2, 9, 1)),  # one word x7
    ("thank you. Thank you, thank you! thank you. so", (0, 8, 2)),  # bigram x4, punctuation ignored
    ("we will go we will go we will go we will go home", (0, 12, 3)),  # trigram x4
    ("Dogs are sitting by the door. Dogs are sitting by the door. Dogs are sitting by the door.", None),
    ("no no no way", None),  # ordinary emphasis stays
    ("I'm sorry, I'm sorry, I'm sorry.", None),  # a bigram said three times is speech, not a loop
    ("the cat sat on the mat", None),
    ("", None),
])
def test_find_repetition_loop(text, expected):
    assert find_repetition_loop(text.split()) == expected


def test_trim_loops_keeps_first_occurrence_and_notes_it():
    words = _words("Don't forget a jacket jacket jacket jacket jacket jacket jacket please")
    kept, notes = trim_loops(words)
    assert " ".join(w.text for w in kept) == "Don't forget a jacket please"
    assert len(notes) == 1 and "'jacket' x7" in notes[0] and "0.9 s" in notes[0]
    assert kept[-1] is words[-1]  # the words after the loop keep their times


def test_plan_windows_merges_close_speech_and_respects_the_window_cap():
    assert plan_windows(10.0, None) == [(0.0, 10.0)]
    assert plan_windows(0.0, None) == []
    spans = plan_windows(100.0, [(1.0, 2.0), (2.5, 3.0), (10.0, 12.0), (12.2, 45.0)])
    assert spans[0] == (0.8, 3.2)  # padded and merged across a 0.5 s gap
    assert spans[1] == (9.8, 12.2)  # not merged with the next: together they would exceed the cap
    assert all(b - a <= MAX_WINDOW_S for a, b in spans[:2]) and spans[2] == (12.2, 45.2)  # no overlap
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))


def test_transcribe_silence_gives_no_words():
    t = transcribe(ArrayAudio(np.zeros(16000 * 3, np.float32)))
    assert t.text == "" and t.segments == [] and t.source == "asr:whisper-base (multilingual)"


def test_transcribe_espeak_sentence_returns_words_with_times(tmp_path):
    spoken = fx.espeak_audio("I can't believe you did that. This is the best day of my life.", tmp_path)
    audio = fx.with_silence(spoken, before=1.0, after=0.5)
    t = transcribe(audio, speech=[(1.0, 1.0 + spoken.duration)])
    words = [w for s in t.segments for w in s.words]
    said = re.sub(r"[^a-z' ]", "", t.text.lower()).split()
    assert {"believe", "best", "life"} <= set(said)  # base heard "the best made of my life" here
    assert all(1.0 - 0.3 <= w.start <= w.end <= audio.duration for w in words)  # times are absolute
    assert [w.start for w in words] == sorted(w.start for w in words)
    believe = next(w for w in words if "believe" in w.text.lower())
    life = next(w for w in words if "life" in w.text.lower())
    assert believe.end < life.start  # order and rough placement hold
    assert all(0.0 < s.confidence <= 1.0 for s in t.segments) and t.confidence > 0.5
    assert t.timed and not t.notes
    again = transcribe(audio, speech=[(1.0, 1.0 + spoken.duration)])
    assert again.to_dict() == t.to_dict()  # deterministic


def _fake_whisper(segments):
    class Model:
        model = NS(is_multilingual=False)

        def transcribe(self, samples, **kwargs):
            self.kwargs = kwargs
            return iter(segments), None

    def seg(words, n_tokens):
        return NS(words=[NS(word=f" {w}", start=s, end=s + 0.2, probability=p) for w, s, p in words],
                  tokens=list(range(n_tokens)))

    return Model(), seg


def test_decode_window_trims_loops_across_segments_offsets_times_and_notes_the_token_cap():
    model, seg = _fake_whisper([])
    loop = [("jacket", 1.0 + 0.1 * i, 0.3) for i in range(6)]
    model2, _ = _fake_whisper([seg([("Don't", 0.0, 0.9), ("forget", 0.4, 0.8)] + loop[:3], 10),
                               seg(loop[3:], 30)])
    segments, notes = _decode_window(model2, np.zeros(16000 * 2, np.float32), 10.0, "en", vad=False)
    assert model2.kwargs["condition_on_previous_text"] is False and model2.kwargs["word_timestamps"] is True
    assert model2.kwargs["max_new_tokens"] == 32 and model2.kwargs["language"] == "en"
    assert [s.text for s in segments] == ["Don't forget jacket"]  # the looping second segment is gone
    assert segments[0].start == 10.0 and segments[0].words[-1].start == pytest.approx(11.0)
    assert segments[0].confidence == pytest.approx((0.9 + 0.8 + 0.3) / 3, abs=1e-4)
    assert any("'jacket' x6" in n for n in notes) and any("cap of 32 tokens" in n for n in notes)


def test_long_speech_is_cut_at_the_quietest_moment():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(16000 * 70)).astype(np.float32)
    x[int(25.0 * 16000):int(25.3 * 16000)] = 0.0  # a pause
    spans = _split_long(ArrayAudio(x), 0.0, 70.0)
    assert spans[0][1] == pytest.approx(25.0, abs=0.06)
    assert all(b - a <= MAX_WINDOW_S for a, b in spans) and spans[-1][1] == 70.0
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))


# (avg_logprob, no_speech_prob, compression_ratio, word_probability) measured on espeak-ng speech by
# benchmarks/asr_language.py (Whisper tiny.en, decoded as transcribe() decodes)
ENGLISH_STATS = [(-0.267, 0.145, 0.933, 0.949), (-0.407, 0.133, 1.048, 0.832), (-0.409, 0.037, 1.08, 0.825),
                 (-0.33, 0.162, 0.953, 0.889)]
OTHER_STATS = [(-1.314, 0.331, 1.01, 0.19), (-1.065, 0.234, 1.068, 0.468),  # German
               (-1.307, 0.315, 1.558, 0.431), (-2.207, 0.546, 0.467, 0.064),  # Spanish
               (-0.998, 0.416, 0.873, 0.47),  # French
               (-0.529, 0.383, 1.851, 0.504), (-0.663, 0.461, 1.402, 0.386)]  # Mandarin (read as digits)


RULE_CASES = ([(s, False) for s in ENGLISH_STATS] + [(s, True) for s in OTHER_STATS]
              + [((-0.7, 0.1, 1.0, 0.9), False),  # one sign alone (a hard English clip) is not enough
                 ((-0.3, 0.1, 4.5, 0.6), True)])  # a loop and unsure words


@pytest.mark.parametrize("stats, expected", RULE_CASES)
def test_wrong_answer_not_english_rule_on_segment_stats(stats, expected):
    assert looks_not_english(*stats) is expected


def test_decoding_stats_weight_segments_by_tokens():
    d = decoding_stats([(30, -0.2, 0.1, 1.0), (10, -1.0, 0.5, 3.0)], [0.9, 0.5])
    assert d["avg_logprob"] == pytest.approx(-0.4) and d["no_speech_prob"] == pytest.approx(0.2)
    assert d["compression_ratio"] == pytest.approx(1.5) and d["word_probability"] == pytest.approx(0.7)


def test_wrong_answer_german_speech_on_an_english_only_model_is_flagged_and_its_words_not_used(tmp_path):
    import emoreason
    from emoreason.io.demo_clip import speak

    fx.espeak_audio("skip without espeak-ng", tmp_path)
    german = ArrayAudio(speak("Ich gehe heute in den Laden, um Brot und Milch zu kaufen.", voice="de"))
    tiny_en = default_whisper_dir()  # a user's English-only asr_model: no language identification
    t = transcribe(german, model_dir=tiny_en)
    assert NOT_ENGLISH_NOTE in t.notes and t.text  # invented English, kept for inspection
    r = emoreason.analyze(german.samples, sample_rate=16000, modalities="voice,text", asr_model=tiny_en)
    assert not r.modalities["text"].used and NOT_ENGLISH_NOTE in r.modalities["text"].reason
    assert NOT_ENGLISH_NOTE in r.notes and r.transcript == t.text and r.modalities["voice"].used
    english = fx.espeak_audio("I am going to the shop to buy some bread and milk today.", tmp_path)
    assert NOT_ENGLISH_NOTE not in transcribe(english, model_dir=tiny_en).notes
