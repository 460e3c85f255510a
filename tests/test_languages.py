"""Whisper's language table, the language a user asks for, and the Result's language fields."""

from __future__ import annotations

import json

import pytest

from emoreason.errors import ConfigError
from emoreason.explain import explain
from emoreason.languages import WHISPER_LANGUAGES, check_language, language_name
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.result import Evidence, Result


def test_the_table_matches_whisper_base():
    assert len(WHISPER_LANGUAGES) == 99 and list(WHISPER_LANGUAGES)[:3] == ["en", "zh", "de"]
    assert language_name("ja") == "Japanese" and language_name(None) is None and language_name("xx") == "xx"


@pytest.mark.parametrize("given, code", [("de", "de"), ("DE", "de"), (" German ", "de"), ("chinese", "zh"),
                                         (None, None)])
def test_check_language_takes_codes_and_names(given, code):
    assert check_language(given) == code
    assert AnalyzeOptions(language=given).language == code


@pytest.mark.parametrize("bad, message", [("xx", "unknown language 'xx'"), ("", "unknown language"),
                                          (5, "language must be a language code")])
def test_a_wrong_language_is_a_config_error(bad, message):
    with pytest.raises(ConfigError, match=message):
        AnalyzeOptions(language=bad)


def _result(**kw) -> Result:
    return Result(input="x.wav", duration=2.0, label="angry", scores={"angry": 0.8, "neutral": 0.2},
                  valence=-0.5, arousal=0.6, transcript="أنا غاضب جدا منك", **kw)


def test_result_round_trip_with_and_without_language():
    r = _result(language="ar", language_probability=0.91)
    back = Result.from_dict(json.loads(r.to_json()))
    assert back.language == "ar" and back.language_probability == 0.91 and back.to_dict() == r.to_dict()
    assert "أنا غاضب" in r.to_json()  # the words in their own script, not \\u escapes
    old = _result().to_dict()
    del old["language"], old["language_probability"]  # a result written before the fields existed
    assert Result.from_dict(old).language is None
    assert 'said (Arabic, p 0.91): "أنا' in r.summary()
    assert 'said (Arabic, given)' in _result(language="ar").summary()
    assert 'said: "' in _result().summary()


def _words(quote: str) -> list[Evidence]:
    return [Evidence("text", "words", 0.8, 0.5, 2.0, 0.4, f"says '{quote}'", supports="angry")]


def test_explanation_names_a_language_other_than_english_and_quotes_the_original_script():
    scores = {"angry": 0.8, "neutral": 0.2}
    text = explain("angry", scores, _words("我对你很生气"), {"text": 1.0}, {}, language="zh")
    assert "Words, said in Chinese: '我对你很生气' (0.5–2.0 s)." in text
    english = explain("angry", scores, _words("I am so angry"), {"text": 1.0}, {}, language="en")
    assert "Words: says 'I am so angry'" in english and "said in" not in english
    no_text = explain("angry", scores, [], {"voice": 1.0}, {"text": "no speech"}, language="de")
    assert no_text.endswith("The speech was in German.")
    unsure = explain("angry", scores, _words("Dobrý den"), {"text": 1.0}, {}, language="cs",
                     language_probability=0.21)
    assert "Words, said in Czech (uncertain, p 0.21): 'Dobrý den'" in unsure


def test_the_llm_explainer_is_told_the_language(fake_openai):
    from emoreason.explain import explain_with_llm

    url, seen = fake_openai(lambda body: "Er ist wütend.")
    explain_with_llm(url, "m", "angry", {"angry": 1.0}, _words("Ich bin wütend"), "Ich bin wütend",
                     language="de")
    sent = json.loads(seen[0]["body"]["messages"][1]["content"])
    assert sent["language"] == "German" and sent["transcript"] == "Ich bin wütend"


def test_words_are_joined_without_spaces_in_chinese_japanese_and_thai():
    from emoreason.languages import join_words
    from emoreason.perception.text.transcript import Transcript, TranscriptSegment

    assert join_words(["我", "对", "你"], "zh") == "我对你" and join_words(["Ich", "bin"], "de") == "Ich bin"
    segs = [TranscriptSegment(0, 1, "我很生气。"), TranscriptSegment(1, 2, "你不听。")]
    assert Transcript(segs, "asr:x", language="zh").text == "我很生气。你不听。"
    assert Transcript(segs, "asr:x").text == "我很生气。 你不听。"  # language unknown: spaces kept
