"""One side job beside the calling thread: :class:`Background` runs a function in its own thread.

The pipeline runs a media file's audio path (voice activity, the voice model, speech-to-text, the text
model) in a background thread while the calling thread decodes frames into the face stage: the two are
independent until fusion, and the native code they spend their time in (onnxruntime, CTranslate2, numpy,
mediapipe, TFLite) releases the GIL, so on two cores they overlap. The caller's decode guard
(:mod:`emoreason.io.guard`: the cancel flag and the decoded-time limit, kept per thread) is carried into the
background thread. An exception raised there is raised again by :meth:`Background.result`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from emoreason.io.guard import current_guard, decode_guard


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
