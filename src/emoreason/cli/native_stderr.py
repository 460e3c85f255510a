"""Keep native libraries' log lines (mediapipe, TFLite, CTranslate2) off the user's terminal.

Those libraries write straight to file descriptor 2, below Python. While the context is active, fd 2
points at /dev/null and ``sys.stderr`` writes to a duplicate of the original stream, so emoreason's own
messages, warnings and progress bars still reach the terminal.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr(enabled: bool = True) -> Iterator[None]:
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded, captured): nothing to do
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    old_stderr = sys.stderr
    sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(saved), "wb", buffering=0), write_through=True,
                                  encoding=getattr(old_stderr, "encoding", None) or "utf-8", errors="replace")
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
            sys.stderr.close()
        sys.stderr = old_stderr
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
