"""Keep native libraries' log lines (mediapipe, TFLite, absl, CTranslate2) off the CLI user's terminal.

The library itself keeps mediapipe's and TFLite's start-up lines off stderr around the moments it builds
their models (:mod:`emoreason.perception.native_log`), in the Python API, the server and ``eval`` alike;
the CLI goes further and, unless ``--verbose``, points fd 2 at /dev/null for the whole command, so that
any other native line (one CTranslate2 or onnxruntime prints mid-run) stays off the terminal too.

Those libraries write straight to file descriptor 2, below Python. While the context is active, fd 2
points at /dev/null and ``sys.stderr`` writes to a duplicate of the original stream, so emoreason's own
messages, warnings and progress bars still reach the terminal. Python ``logging`` handlers set up before
the context (``logging.basicConfig`` in the CLI) hold the old ``sys.stderr``, whose fd 2 is now
/dev/null: they are pointed at the new stream for the duration, so log lines (emoreason's, uvicorn's)
are printed too.
"""

from __future__ import annotations

import contextlib
import io
import logging
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
    moved = _repoint_handlers(old_stderr, sys.stderr)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        for handler in moved:
            handler.setStream(old_stderr)
        with contextlib.suppress(Exception):
            sys.stderr.flush()
            sys.stderr.close()
        sys.stderr = old_stderr
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _repoint_handlers(old: object, new: io.TextIOBase) -> list[logging.StreamHandler]:
    """Point every logging handler that writes to ``old`` at ``new``; the handlers moved."""
    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    moved = []
    for lg in loggers:
        for handler in lg.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is old and handler not in moved:
                handler.setStream(new)
                moved.append(handler)
    return moved
