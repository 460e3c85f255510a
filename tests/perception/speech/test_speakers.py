"""The numpy GE2E speaker encoder: equal to resemblyzer's own, weights converted once with their hash,
espeak voices told apart, torch needed only to convert."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import speaker_fixtures as sfx  # noqa: E402  (tests/perception is on pytest's pythonpath)

from emoreason.assets import sha256_file
from emoreason.errors import ConfigError, ModelError
from emoreason.perception.speech import speakers
from emoreason.perception.speech.speakers import SpeakerEncoder


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> SpeakerEncoder:
    pytest.importorskip("torch")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMOREASON_CACHE", str(tmp_path_factory.mktemp("cache")))
        return SpeakerEncoder(speakers.weights_path())


def test_matches_resemblyzer_on_a_clip(encoder):
    resemblyzer = pytest.importorskip("resemblyzer")
    wav = resemblyzer.preprocess_wav(sfx.voice("en+f3", sfx.SENTENCES[0]))
    ours = encoder.embed_utterance(wav)
    theirs = resemblyzer.VoiceEncoder("cpu", verbose=False).embed_utterance(wav)
    assert ours.shape == (256,) and abs(float(np.linalg.norm(ours)) - 1) < 1e-5
    assert float(ours @ theirs) >= 0.999


def test_conversion_is_recorded_and_reused(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("EMOREASON_CACHE", str(tmp_path))
    path = speakers.weights_path()
    record = json.loads((path.parent / speakers.SOURCE_FILE).read_text())
    assert record["sha256"] == sha256_file(speakers.packaged_weights())
    stamp = path.stat().st_mtime_ns
    calls = []
    monkeypatch.setattr(speakers, "_convert", lambda src: calls.append(src))
    assert speakers.weights_path() == path and path.stat().st_mtime_ns == stamp and not calls


def test_a_changed_packaged_file_is_converted_again(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("EMOREASON_CACHE", str(tmp_path))
    path = speakers.weights_path()
    record = path.parent / speakers.SOURCE_FILE
    record.write_text(json.dumps({"sha256": "0" * 64}))  # as if converted from another resemblyzer
    calls = []
    real = speakers._convert
    monkeypatch.setattr(speakers, "_convert", lambda src: calls.append(src) or real(src))
    assert speakers.weights_path() == path and len(calls) == 1
    assert json.loads(record.read_text())["sha256"] == sha256_file(speakers.packaged_weights())


def test_converting_without_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ModelError, match=r"emoreason\[llm\]"):
        speakers._convert(speakers.packaged_weights())


def test_espeak_voices_are_told_apart(encoder):
    a0, a1 = (encoder.embed_utterance(sfx.voice("en+m1", s)) for s in sfx.SENTENCES[:2])
    b0, b1 = (encoder.embed_utterance(sfx.voice("en+f3", s)) for s in sfx.SENTENCES[:2])
    same = min(float(a0 @ a1), float(b0 @ b1))
    cross = max(float(a0 @ b1), float(a1 @ b0))
    assert same > 0.8 and cross < 0.75 and same - cross > 0.15


def test_rejects_malformed_windows(encoder):
    with pytest.raises(ConfigError):
        encoder.embed_mels(np.zeros((2, 160, 39), np.float32))
    with pytest.raises(ConfigError):
        encoder.embed_utterance(np.zeros(0, np.float32))
