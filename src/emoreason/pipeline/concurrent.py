"""One side job beside the calling thread: :class:`Background` runs a function in its own thread.

The pipeline runs a media file's audio path (voice activity, the voice model, speech-to-text, the text
model) in a background thread while the calling thread decodes frames into the face stage: the two are
independent until fusion, and the native code they spend their time in (onnxruntime, CTranslate2, numpy,
mediapipe, TFLite) releases the GIL, so on two cores they overlap. The caller's decode guard
(:mod:`emoreason.io.guard`: the cancel flag and the decoded-time limit, kept per thread) is carried into the
background thread. An exception raised there is raised again by :meth:`Background.result`.

While the paths run side by side they fill the cores themselves, so :func:`shared_cores` gives numpy's BLAS
(the voice model's Whisper encoder, the text model's matrices) as many threads as speech-to-text's
CTranslate2 gets, half the cores (one on two cores): more BLAS threads than that only compete with the
other path's threads for the same cores.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from emoreason.blas_threads import blas_threads
from emoreason.io.guard import current_guard, decode_guard
from emoreason.perception.speech.whisper import default_cpu_threads


class Background:
    """``fn()`` started in a daemon thread now; :meth:`result` waits for it and returns (or raises) what
    it returned (or raised)."""

    def __init__(self, fn: Callable[[], Any], name: str = "emoreason-audio") -> None:
        self._fn = fn
        self._guard = current_guard()
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        g = self._guard
        ctx = decode_guard(g.max_seconds, g.cancel) if g is not None else contextlib.nullcontext()
        try:
            with ctx:
                self._value = self._fn()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> Any:
        """Wait for the thread; its return value, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def shared_cores() -> contextlib.AbstractContextManager[None]:
    """numpy's BLAS on at most :func:`~emoreason.perception.speech.whisper.default_cpu_threads` threads while
    inside this block (:func:`emoreason.blas_threads.blas_threads`: one process-wide limit, no library
    raised above its own count, the originals back when the last caller leaves)."""
    return blas_threads(default_cpu_threads())
