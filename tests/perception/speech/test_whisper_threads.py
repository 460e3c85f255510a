"""Speech-to-text's CTranslate2 threads: half the cores, 1 to 4 (it runs beside the face stage)."""

from __future__ import annotations

import pytest

from emoreason.perception.speech import whisper


@pytest.mark.parametrize(("cores", "threads"), [(None, 1), (1, 1), (2, 1), (4, 2), (8, 4), (64, 4)])
def test_default_cpu_threads_is_half_the_cores(monkeypatch, cores, threads):
    monkeypatch.setattr(whisper.os, "cpu_count", lambda: cores)
    assert whisper.default_cpu_threads() == threads


def test_the_loaded_model_uses_the_default_threads(monkeypatch):
    seen = []
    monkeypatch.setattr(whisper, "_load", lambda path, n: seen.append(n))
    monkeypatch.setattr(whisper.os, "cpu_count", lambda: 2)
    whisper.load_whisper()
    whisper.load_whisper(cpu_threads=3)
    assert seen == [1, 3]
