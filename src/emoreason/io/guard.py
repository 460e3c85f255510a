"""Limits a caller puts on the media decoded in its thread: a longest decoded duration and a cancel flag.

``with decode_guard(max_seconds=600, cancel=event):`` around a call such as ``emoreason.analyze`` makes
:func:`emoreason.io.media.decode` stop with :class:`~emoreason.errors.MediaTooLongError` once the time it
has decoded passes ``max_seconds`` (the decoded time, not the container's header, which a file may state
falsely), and with :class:`~emoreason.errors.AnalysisCancelledError` as soon as ``cancel`` is set. The
pipeline also calls :func:`check_cancelled` between its stages. Outside such a block nothing is checked.
The guard is per thread, so concurrent analyses (the server's workers) each have their own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from emoreason.errors import AnalysisCancelledError, MediaTooLongError

# Frames decoded per second of allowed time before a video counts as too long, whatever its timestamps say
# (a file can stamp thousands of frames with one time): 250 covers high-speed (240 fps) footage.
MAX_FRAMES_PER_SECOND = 250


@dataclass(frozen=True)
class DecodeGuard:
    max_seconds: float | None = None
    cancel: threading.Event | None = None

    def check(self, decoded_seconds: float = 0.0, frames: int = 0) -> None:
        """Raise when cancelled, or when ``decoded_seconds`` (or ``frames``) pass the limit."""
        if self.cancel is not None and self.cancel.is_set():
            raise AnalysisCancelledError("the analysis was cancelled (its request timed out or was dropped)")
        limit = self.max_seconds
        if limit is None:
            return
        if decoded_seconds > limit:
            raise MediaTooLongError(f"the media runs past {limit:g} s of decoded time (this limit counts "
                                    "what is decoded, not the duration the file's header states)")
        if frames > limit * MAX_FRAMES_PER_SECOND:
            raise MediaTooLongError(f"the media holds more than {int(limit * MAX_FRAMES_PER_SECOND)} video "
                                    f"frames: more than {limit:g} s at {MAX_FRAMES_PER_SECOND} frames "
                                    "per second")


_local = threading.local()


@contextlib.contextmanager
def decode_guard(max_seconds: float | None = None,
                 cancel: threading.Event | None = None) -> Iterator[DecodeGuard]:
    """Apply a :class:`DecodeGuard` to the decoding done in this thread inside the block."""
    previous = getattr(_local, "guard", None)
    guard = DecodeGuard(max_seconds, cancel)
    _local.guard = guard
    try:
        yield guard
    finally:
        _local.guard = previous


def current_guard() -> DecodeGuard | None:
    """The guard set for this thread, if any."""
    return getattr(_local, "guard", None)


def check_cancelled() -> None:
    """Raise :class:`~emoreason.errors.AnalysisCancelledError` if this thread's work has been cancelled."""
    guard = current_guard()
    if guard is not None and guard.cancel is not None and guard.cancel.is_set():
        guard.check()
