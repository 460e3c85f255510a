"""Native libraries' log lines (mediapipe, TFLite, absl) kept off stderr while their models are built.

mediapipe and the TFLite runtime write straight to file descriptor 2, below Python: "INFO: Created
TensorFlow Lite XNNPACK delegate for CPU.", absl's "W0000 00:00:... inference_feedback_manager.cc:114]
..." lines and the like, when a graph or an interpreter is built and on its first frames. Inside
:func:`quiet_native_logs` fd 2 points at a temporary file; when the last such block in the process ends,
fd 2 is restored and what was written meanwhile is sorted: lines in the native libraries' formats go to
the ``emoreason.native`` logger at DEBUG level, anything else (a Python warning from another thread, say)
is written to stderr as it would have been. Only these short moments are redirected, never the whole
process, and nothing is lost. ``EMOREASON_NATIVE_LOGS=1`` in the environment leaves fd 2 alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

log = logging.getLogger("emoreason.native")

#: absl/glog ("W0000 00:00:1796471199.922689   21555 file.cc:114] ...") and TFLite ("INFO: ...") lines.
NATIVE_LINE = re.compile(rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.\-/]+:\d+\]"
                         rb"|(?:INFO|WARNING|ERROR): )")

_lock = threading.Lock()
_state: dict = {"depth": 0, "saved": None, "capture": None}


@contextlib.contextmanager
def quiet_native_logs(enabled: bool = True) -> Iterator[None]:
    """While the block runs (in any thread), native log lines on fd 2 are captured rather than shown."""
    if not enabled or os.environ.get("EMOREASON_NATIVE_LOGS") == "1" or not _enter():
        yield
        return
    try:
        yield
    finally:
        _leave()


def _enter() -> bool:
    with _lock:
        if _state["depth"] == 0:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
            except (OSError, ValueError, AttributeError):  # no real fd 2: nothing to redirect
                return False
            capture = tempfile.TemporaryFile()
            os.dup2(capture.fileno(), 2)
            _state.update(saved=saved, capture=capture)
        _state["depth"] += 1
        return True


def _leave() -> None:
    with _lock:
        _state["depth"] -= 1
        if _state["depth"] > 0:
            return
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        saved, capture = _state["saved"], _state["capture"]
        os.dup2(saved, 2)
        os.close(saved)
        capture.seek(0)
        data = capture.read()
        capture.close()
        _state.update(saved=None, capture=None)
    _replay(data)


def _replay(data: bytes) -> None:
    """Native lines to the debug log; everything else back to stderr."""
    other = []
    for line in data.splitlines(keepends=True):
        if NATIVE_LINE.match(line):
            log.debug("%s", line.decode("utf-8", "replace").rstrip())
        else:
            other.append(line)
    if other:
        with contextlib.suppress(OSError):
            os.write(2, b"".join(other))
