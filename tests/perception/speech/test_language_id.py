"""Language ID and routing: Whisper base identifies German espeak-ng speech and transcribes it in German;
a given language skips identification; English-only models refuse other languages."""

from __future__ import annotations

import shutil

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


def test_speech_sample_joins_the_first_speech_spans_up_to_the_limit():
    x = np.arange(16000 * 10, dtype=np.float32)
    audio = ArrayAudio(x)
    got = language_id.speech_sample(audio, [(5.0, 6.0), (1.0, 2.0), (3.0, 9.0)], seconds=3.0)
    assert len(got) == 3 * 16000  # 1-2 s, then 3-5 s: three seconds of speech, in time order
    assert got[0] == x[16000] and got[16000] == x[3 * 16000] and got[-1] == x[5 * 16000 - 1]
    assert len(language_id.speech_sample(audio, None, seconds=4.0)) == 4 * 16000


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
