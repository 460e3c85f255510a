"""The audio path's schedule: voice activity once, then the voice model in its own thread beside the words;
the result is the serial schedule's."""

from __future__ import annotations

import threading

import pytest
from tests.conftest import requires_espeak
from tests.pipeline.result_dicts import without_timings

import emoreason
from emoreason.pipeline import audio_path as audio_module
from emoreason.pipeline import perceive as perceive_module
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.pipeline.perceive import Pipeline


class SerialJob:
    """:class:`~emoreason.pipeline.concurrent.Background` run in the caller's thread, at once: the serial
    schedule (the video path after the audio path, the voice model before the words)."""

    def __init__(self, fn, name: str = "") -> None:
        self._value, self._error = None, None
        try:
            self._value = fn()
        except BaseException as exc:  # handed over by result(), as Background does
            self._error = exc

    def result(self):
        if self._error is not None:
            raise self._error
        return self._value


def _serial(monkeypatch) -> None:
    """Both of the pipeline's side jobs (the audio path beside the video path, the voice model beside the
    words) run at once in the calling thread."""
    monkeypatch.setattr(perceive_module, "Background", SerialJob)
    monkeypatch.setattr(audio_module, "Background", SerialJob)


def _record_threads(monkeypatch) -> dict[str, str]:
    seen: dict[str, str] = {}
    analyze_voice, transcribe = perceive_module.VoiceAnalyzer.analyze, audio_module.transcribe

    def voice(self, *args, **kw):
        seen["voice"] = threading.current_thread().name
        return analyze_voice(self, *args, **kw)

    def words(*args, **kw):
        seen["asr"] = threading.current_thread().name
        return transcribe(*args, **kw)

    monkeypatch.setattr(perceive_module.VoiceAnalyzer, "analyze", voice)
    monkeypatch.setattr(audio_module, "transcribe", words)
    return seen


def test_the_concurrent_schedule_gives_the_serial_result(speech_clip, monkeypatch):
    seen = _record_threads(monkeypatch)
    concurrent = emoreason.analyze(speech_clip)
    assert seen["voice"] == "emoreason-voice" and seen["asr"] == "emoreason-audio"
    assert {"voice", "text", "face"} <= {m for m, o in concurrent.modalities.items() if o.used}
    _serial(monkeypatch)
    serial = emoreason.analyze(speech_clip)
    assert seen["voice"] == seen["asr"] == threading.current_thread().name
    assert without_timings(concurrent.to_dict()) == without_timings(serial.to_dict())
    assert list(concurrent.provenance["timings"]) == list(serial.provenance["timings"])


@requires_espeak
def test_a_waveform_takes_the_same_schedule(monkeypatch):
    from emoreason.io.demo_clip import DEMO_SENTENCE, speak

    wave = speak(DEMO_SENTENCE)
    seen = _record_threads(monkeypatch)
    concurrent = emoreason.analyze(wave, sample_rate=16000)
    assert seen["voice"] == "emoreason-voice" and seen["asr"] == threading.current_thread().name
    _serial(monkeypatch)
    serial = emoreason.analyze(wave, sample_rate=16000)
    assert without_timings(concurrent.to_dict()) == without_timings(serial.to_dict())
    assert concurrent.modalities["voice"].used and concurrent.modalities["text"].used


def test_voice_activity_runs_once_and_the_sound_is_decoded_once(speech_clip, monkeypatch):
    vads, decodes = [], []
    detect, decode = audio_module.detect_speech, perceive_module.decode

    def counting_vad(audio, *a, **kw):
        vads.append(threading.current_thread().name)
        return detect(audio, *a, **kw)

    def counting_decode(path, **kw):
        decodes.append("audio" if kw.get("audio_path") is not None else "frames")
        return decode(path, **kw)

    import emoreason.perception.voice.analyzer as voice_module

    monkeypatch.setattr(audio_module, "detect_speech", counting_vad)
    monkeypatch.setattr(voice_module, "detect_speech", counting_vad)
    monkeypatch.setattr(perceive_module, "decode", counting_decode)
    p = Pipeline().perceive(speech_clip, AnalyzeOptions())
    assert vads == ["emoreason-audio"] and sorted(decodes) == ["audio", "frames"]
    assert p.outputs["voice"].usable and p.outputs["text"].usable and p.speech


@requires_espeak
def test_an_error_in_the_words_waits_for_the_voice_model(monkeypatch):
    from emoreason.errors import ModelError
    from emoreason.io.demo_clip import DEMO_SENTENCE, speak

    finished = threading.Event()
    analyze_voice = perceive_module.VoiceAnalyzer.analyze

    def slow_voice(self, *args, **kw):
        out = analyze_voice(self, *args, **kw)
        finished.set()
        return out

    def broken(*args, **kw):
        raise ModelError("the speech model is broken")

    monkeypatch.setattr(perceive_module.VoiceAnalyzer, "analyze", slow_voice)
    monkeypatch.setattr(audio_module, "transcribe", broken)
    with pytest.raises(ModelError, match="the speech model is broken"):
        Pipeline().perceive(speak(DEMO_SENTENCE), AnalyzeOptions(sample_rate=16000,
                                                                 modalities=["voice", "text"]))
    assert finished.is_set()  # the voice model's thread was waited for


def test_shared_cores_limits_blas_in_this_process_and_restores_it(monkeypatch):
    from threadpoolctl import threadpool_info

    from emoreason.pipeline import concurrent

    def blas_threads() -> int:
        return max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")

    before = blas_threads()
    if before < 2:
        pytest.skip("no BLAS library here runs more than one thread")
    monkeypatch.setattr(concurrent, "default_cpu_threads", lambda: 1)
    with concurrent.shared_cores():
        assert blas_threads() == 1
    assert blas_threads() == before
