"""Text language ID: the n-gram features, the shipped model on sentences in a few scripts, the limits."""

from __future__ import annotations

import json

import pytest

from emoreason.assets import asset_path
from emoreason.errors import ModelError
from emoreason.perception.text.language_id import (
    ASSET,
    LanguageId,
    char_ngrams,
    default_model,
    identify_language,
)


def test_char_ngrams_pad_words_and_count_scripts():
    grams = char_ngrams("Hi!", (1, 2, 3))
    assert grams == {"<LATIN>": 2, "h": 1, "i": 1, " h": 1, "hi": 1, "i ": 1, " hi": 1, "hi ": 1}
    assert char_ngrams("撞车", (1,))["<CJK>"] == 2
    assert char_ngrams("123 ...", (1, 2)) == {}


def test_shipped_model_is_small_and_loads():
    path = asset_path(*ASSET)
    assert path.is_file() and path.stat().st_size < 2_000_000
    model = default_model()
    assert {"en", "es", "fi", "zh", "ar", "ru", "de"} <= set(model.languages)


@pytest.mark.parametrize("text, code", [
    ("I really don't know what you are talking about, my friend.", "en"),
    ("No sé de qué estás hablando, pero me parece una mala idea.", "es"),
    ("Ich habe keine Ahnung, wovon du sprichst, aber es klingt gefährlich.", "de"),
    ("En tiedä mistä sinä puhut, mutta se kuulostaa vaaralliselta.", "fi"),
    ("Je ne sais pas de quoi tu parles, mais ça a l'air dangereux.", "fr"),
    ("Я не знаю, о чём ты говоришь, но это звучит опасно.", "ru"),
    ("لا أعرف ما الذي تتحدث عنه لكنه يبدو خطيرا", "ar"),
    ("我不知道你在说什么，但是听起来很危险。", "zh"),
])
def test_identifies_full_sentences(text, code):
    lang, prob = identify_language(text)
    assert lang == code
    assert 0.5 < prob <= 1.0


def test_no_letters_or_unknown_script_is_undetermined():
    assert identify_language("12345 !!! :-)") == ("und", 0.0)
    assert identify_language("") == ("und", 0.0)
    assert identify_language("안녕하세요") == ("und", 0.0)  # Korean: no n-gram known


def test_probabilities_sum_to_one():
    probs = default_model().probabilities("Where are you going tonight?")
    assert sum(probs.values()) == pytest.approx(1.0)
    assert max(probs, key=probs.get) == "en"


def test_malformed_models_are_model_errors(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        LanguageId.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match="not JSON"):
        LanguageId.load(bad)
    bad.write_text(json.dumps({"languages": ["en"], "orders": [1]}), encoding="utf-8")
    with pytest.raises(ModelError, match="malformed"):
        LanguageId.load(bad)
