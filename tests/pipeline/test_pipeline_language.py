"""The spoken language reaches the Result from a media file (whose sound is read on its own path) and
from a waveform; a given language is recorded without a probability."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

import emoreason


@pytest.fixture(scope="module")
def german_wav(tmp_path_factory) -> str:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from emoreason.io.demo_clip import speak

    x = speak("Ich gehe heute in den Laden, um Brot und Milch zu kaufen.", voice="de")
    pad = np.zeros(8000, np.float32)
    path = tmp_path_factory.mktemp("de") / "laden.wav"
    sf.write(str(path), np.concatenate([pad, x, pad]), 16000)
    return str(path)


def test_a_media_file_gets_its_language_identified(german_wav):
    r = emoreason.analyze(german_wav, modalities="text")
    assert r.language == "de" and r.language_probability > 0.5
    assert "said in German" in r.explanation and "Milch" in r.transcript


def test_a_given_language_is_recorded_as_given(german_wav):
    samples, sr = sf.read(german_wav, dtype="float32")
    r = emoreason.analyze(samples, sample_rate=sr, modalities="text", language="de")
    assert r.language == "de" and r.language_probability is None and "Milch" in r.transcript
