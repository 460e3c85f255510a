"""Language ID and routing: Whisper base identifies German espeak-ng speech and transcribes it in German;
a given language skips identification; English-only models refuse other languages."""

from __future__ import annotations

import shutil
from types import SimpleNamespace as NS

import numpy as np
import pytest

from emoreason.errors import ConfigError
from emoreason.io.audio import ArrayAudio
from emoreason.perception.speech import language_id
from emoreason.perception.speech.asr import NOT_ENGLISH_NOTE, transcribe
from emoreason.perception.speech.whisper import default_whisper_dir

GERMAN = "Ich gehe heute in den Laden, um Brot und Milch zu kaufen."


@pytest.fixture(scope="module")
def german() -> tuple[ArrayAudio, list[tuple[float, float]]]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from emoreason.io.demo_clip import speak

    x = speak(GERMAN, voice="de")
    pad = np.zeros(8000, np.float32)
    return ArrayAudio(np.concatenate([pad, x, pad])), [(0.5, 0.5 + len(x) / 16000)]


class _Multilingual:
    """A stand-in multilingual Whisper: records the language and length of each window it decodes."""

    model = NS(is_multilingual=True)

    def __init__(self):
        self.calls = []

    def transcribe(self, samples, **kwargs):
        self.calls.append((len(samples), kwargs["language"]))
        return iter([]), None


def test_the_first_window_names_the_language_for_every_window(monkeypatch):
    fake, seen = _Multilingual(), []
    monkeypatch.setattr(language_id, "load_whisper", lambda *a, **k: fake)
    monkeypatch.setattr(language_id, "multilingual_whisper_dir", lambda: "base")

    def identify(model, samples, vad):
        seen.append((len(samples), vad))
        return "cs", 0.21, model

    monkeypatch.setattr(language_id, "identify", identify)
    audio = ArrayAudio(np.zeros(16000 * 100, np.float32))
    t = transcribe(audio, [(1.0, 3.0), (40.0, 42.0), (80.0, 81.0)])
    assert seen == [(int(2.4 * 16000), False)]  # once, on the first (padded) window, with its own samples
    assert [lang for _, lang in fake.calls] == ["cs", "cs", "cs"]
    assert t.language == "cs" and t.language_probability == 0.21
    assert any("the spoken language is uncertain: Czech with probability 0.21" in n for n in t.notes)


def test_identification_encodes_the_first_window_once_for_language_and_words(german, monkeypatch):
    audio, speech = german
    given = transcribe(audio, speech, language="de")
    model = language_id.route(None, None).model
    encoded = []
    original = type(model).encode
    monkeypatch.setattr(type(model), "encode", lambda self, x: encoded.append(1) or original(self, x))
    t = transcribe(audio, speech)
    assert len(encoded) == 1  # the language token and the decoding share one encoder pass
    assert t.language == "de" and t.language_probability > 0.5
    assert t.segments == given.segments  # words, times and confidences: the same encoder output


def test_german_is_identified_and_transcribed_in_german(german):
    audio, speech = german
    t = transcribe(audio, speech)
    assert t.language == "de" and t.language_probability > 0.5
    assert t.source == "asr:whisper-base (multilingual)" and NOT_ENGLISH_NOTE not in t.notes
    words = set(t.text.lower().replace(",", " ").replace(".", " ").split())
    assert {"ich", "heute", "milch", "kaufen"} <= words


def test_a_given_language_is_used_without_identification(german, monkeypatch):
    audio, speech = german
    monkeypatch.setattr(language_id, "identify", lambda *a: pytest.fail("identification ran"))
    t = transcribe(audio, speech, language="German")
    assert t.language == "de" and t.language_probability is None and "Milch" in t.text


def test_unknown_language_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown language 'xx'"):
        transcribe(ArrayAudio(np.zeros(16000, np.float32)), language="xx")


def test_an_english_only_model_refuses_another_language_and_flags_other_speech(german):
    audio, speech = german
    with pytest.raises(ConfigError, match="English-only: it cannot transcribe German"):
        transcribe(audio, speech, model_dir=default_whisper_dir(), language="de")
    t = transcribe(audio, speech, model_dir=default_whisper_dir())  # the user's English-only model
    assert t.language == "en" and t.language_probability is None and NOT_ENGLISH_NOTE in t.notes
