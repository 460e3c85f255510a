"""A media file's audio path runs in a background thread beside its video path; clips are decoded once."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import emoreason
from emoreason.errors import AnalysisCancelledError, ModelError
from emoreason.io.guard import check_cancelled, decode_guard
from emoreason.pipeline import audio_path as audio_module
from emoreason.pipeline import clips as clips_module
from emoreason.pipeline import perceive as perceive_module
from emoreason.pipeline.concurrent import Background
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.pipeline.perceive import Pipeline


def test_background_returns_what_its_function_returns_and_raises_what_it_raises():
    assert Background(lambda: 41 + 1).result() == 42

    def boom():
        raise ModelError("broken model")

    with pytest.raises(ModelError, match="broken model"):
        Background(boom).result()


def test_background_carries_the_callers_cancel_flag():
    cancel = threading.Event()
    cancel.set()
    with decode_guard(cancel=cancel):
        job = Background(check_cancelled)
        with pytest.raises(AnalysisCancelledError):
            job.result()
    Background(check_cancelled).result()  # outside the block: nothing to check


def test_the_audio_path_runs_beside_the_video_path(speech_clip, monkeypatch):
    threads: dict[str, int] = {}
    video, audio = Pipeline._video_path, Pipeline._audio_path

    def video_path(self, *args):
        threads["video"] = threading.get_ident()
        return video(self, *args)

    def audio_path(self, *args):
        threads["audio"] = threading.get_ident()
        return audio(self, *args)

    monkeypatch.setattr(Pipeline, "_video_path", video_path)
    monkeypatch.setattr(Pipeline, "_audio_path", audio_path)
    p = Pipeline().perceive(speech_clip, AnalyzeOptions(modalities=["face", "voice"]))
    assert p.outputs["face"].usable and p.outputs["voice"].usable
    assert threads["video"] == threading.get_ident() and threads["audio"] != threads["video"]
    assert {"decode", "face", "vad", "voice"} <= set(p.timings)


def test_an_error_in_the_audio_path_reaches_the_caller(speech_clip, monkeypatch):
    def broken(self, audio, speech=None):
        raise ModelError("the voice model is broken")

    monkeypatch.setattr(perceive_module.VoiceAnalyzer, "analyze", broken)
    with pytest.raises(ModelError, match="the voice model is broken"):
        emoreason.analyze(speech_clip, modalities=["face", "voice"])


def test_an_error_in_the_video_path_waits_for_the_audio_path(speech_clip, monkeypatch):
    finished = threading.Event()

    def slow_audio(self, *args):
        time.sleep(0.5)
        finished.set()

    def broken_frame(self, t, rgb):
        raise ModelError("the face model is broken")

    monkeypatch.setattr(Pipeline, "_audio_path", slow_audio)
    monkeypatch.setattr(perceive_module.FaceAnalyzer, "add_frame", broken_frame)
    with pytest.raises(ModelError, match="the face model is broken"):
        emoreason.analyze(speech_clip, modalities=["face", "voice"])
    assert finished.is_set()  # the temporary WAV was not removed under the audio path's feet


def test_analyze_clips_decodes_each_clip_once_and_runs_vad_once(speech_clip, monkeypatch):
    decodes, vads = [], []
    decode, detect = perceive_module.decode, audio_module.detect_speech

    def counting_decode(path, **kw):
        decodes.append(kw.get("audio_path") is not None)
        return decode(path, **kw)

    def counting_vad(audio, *a, **kw):
        vads.append(1)
        return detect(audio, *a, **kw)

    import emoreason.perception.voice.analyzer as voice_module

    monkeypatch.setattr(perceive_module, "decode", counting_decode)
    monkeypatch.setattr(clips_module, "decode", counting_decode)
    monkeypatch.setattr(audio_module, "detect_speech", counting_vad)
    monkeypatch.setattr(voice_module, "detect_speech", counting_vad)
    results = emoreason.analyze_clips([speech_clip, speech_clip], modalities=["voice", "text"],
                                      texts=["I am so happy today.", "This is wonderful."])
    assert decodes == [True, True] and len(vads) == 2
    assert all(r.modalities["voice"].used for r in results)


def test_a_cancel_stops_the_audio_path_between_windows_and_segments():
    from emoreason.io.audio import ArrayAudio
    from emoreason.perception.speech.asr import transcribe
    from emoreason.perception.voice.analyzer import VoiceAnalyzer

    audio = ArrayAudio(np.zeros(16000 * 3, np.float32))
    cancel = threading.Event()
    cancel.set()
    with decode_guard(cancel=cancel):
        with pytest.raises(AnalysisCancelledError):
            transcribe(audio, [(0.5, 2.0)])
        with pytest.raises(AnalysisCancelledError):
            VoiceAnalyzer().analyze(audio, [(0.5, 2.0)])


def test_a_truncated_video_is_noted_once_over_both_passes(tmp_path):
    from emoreason.io.synth import tone, write_media
    from emoreason.pipeline.perception import Perception

    frames = [np.full((64, 96, 3), i * 5, np.uint8) for i in range(75)]
    full = write_media(tmp_path / "v.mkv", frames, fps=25, audio=tone(3.0))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    p: Perception = Pipeline().perceive(cut, AnalyzeOptions(modalities=["face", "voice"]))
    assert sum("truncated" in n for n in p.notes) == 1
    assert set(p.outputs) == {"face", "voice"} and p.outputs["face"].details["frames"] > 0


def test_the_stage_timings_of_a_clip_and_its_duration(speech_clip):
    p = Pipeline().perceive(speech_clip, AnalyzeOptions(modalities=["face", "voice"]))
    assert p.duration is not None and 5 < p.duration < 10
    assert not any("truncated" in n for n in p.notes)
