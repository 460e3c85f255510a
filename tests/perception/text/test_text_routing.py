"""The text stage's routing by language: English to the ensemble, other languages to the multilingual
model, a forced language and a transcript's own language winning over the text language ID; Chinese and
Arabic end to end through ``emoreason.analyze`` with evidence quoting the original script."""

from __future__ import annotations

import pytest

from emoreason import analyze
from emoreason.errors import ConfigError
from emoreason.labels import CANONICAL
from emoreason.perception.text.analyzer import TextAnalyzer
from emoreason.perception.text.transcript import Transcript, TranscriptSegment
from emoreason.result import Result


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def test_english_goes_to_the_ensemble_and_spanish_to_the_multilingual_head(analyzer):
    en, es = analyzer.analyze_many(["I am so happy today, thank you so much!",
                                    "Estoy muy feliz hoy, muchas gracias a todos"])
    assert en.details["language"] == "en" and en.details["language_source"] == "text"
    assert en.details["text_route"] == "ensemble" and en.models["text_model"] == analyzer.model.name
    assert 0.5 < en.details["language_probability"] <= 1.0
    assert any(e.name == "sentiment" for e in en.evidence)  # VADER, English only
    assert es.details["language"] == "es" and es.details["text_route"] == "multilingual"
    assert es.models["text_model"] == analyzer.multilingual.name
    assert "USE" in es.models["sentence_encoder"] or "e5" in es.models["sentence_encoder"]
    assert not any(e.name == "sentiment" for e in es.evidence)
    assert es.usable and max(es.scores, key=es.scores.get) == "happy"


def test_a_forced_language_wins_and_has_no_probability(analyzer):
    out = analyzer.analyze("I am so happy today", language="de")
    assert out.details["language"] == "de" and out.details["language_source"] == "forced"
    assert out.details["language_probability"] is None and out.details["text_route"] == "multilingual"
    out = analyzer.analyze("Estoy muy feliz hoy", language="EN")
    assert out.details["language"] == "en" and out.details["text_route"] == "ensemble"
    assert analyzer.analyze("Ich bin so froh", language="German").details["language"] == "de"
    with pytest.raises(ConfigError, match="unknown language"):
        analyzer.analyze("Ich bin so froh", language="klingon")


def test_the_transcripts_own_language_is_used(analyzer):
    t = Transcript([TranscriptSegment(0.0, 2.0, "Ich bin so wütend auf dich")], source="asr:test")
    t.language, t.language_probability = "de", 0.93  # what speech recognition sets
    out = analyzer.analyze(t)
    assert out.details["language"] == "de" and out.details["language_source"] == "transcript"
    assert out.details["language_probability"] == pytest.approx(0.93)
    assert out.details["text_route"] == "multilingual"


def test_dialogue_context_is_noted_as_unused_by_the_multilingual_head(analyzer):
    out = analyzer.analyze("Estoy muy triste", context=["¿Qué te pasa?"], language="es")
    assert out.details["context_used"] is False
    assert "dialogue context was given but the text model does not use it" in out.details["notes"]


@pytest.mark.parametrize("text, lang", [("我今天太高兴了，谢谢你们所有人", "zh"),
                                        ("أنا سعيد جدا اليوم، شكرا لكم جميعا", "ar")])
def test_chinese_and_arabic_end_to_end(text, lang):
    r = analyze(text=text)
    assert isinstance(r, Result) and r.schema_version == "1"
    assert list(r.scores) == list(CANONICAL) and sum(r.scores.values()) == pytest.approx(1.0)
    back = Result.from_dict(r.to_dict())
    assert back.label == r.label and back.transcript == text
    text_summary = r.modalities["text"]
    assert text_summary.used and text_summary.details["language"] == lang
    assert text_summary.details["text_route"] == "multilingual"
    quotes = [e for e in r.evidence if e.modality == "text" and e.name == "words"]
    assert quotes and text in quotes[0].description  # the original script, not a transliteration
    for key in (e for e in r.evidence if e.name == "key word"):
        word = key.description.split("'")[1]
        assert word in text


def test_each_model_loads_only_when_its_language_comes():
    fresh = TextAnalyzer()
    assert fresh._model is None and fresh._multilingual is None
    fresh.analyze("Estoy muy feliz hoy, gracias")
    assert fresh._model is None and fresh._multilingual is not None  # Spanish never loads the ensemble
    fresh.analyze("I am very happy today, thank you")
    assert fresh._model is not None
