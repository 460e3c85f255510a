"""numpy's BLAS threads limited while work that fills the cores itself runs: one process-wide limit.

A BLAS library's thread count belongs to the whole process, so every part of emoreason that wants fewer
BLAS threads for a while (the analysis paths running side by side, the text model's batches on their own
threads) asks through :func:`blas_threads`. The limit in force is the smallest one asked for by the
callers inside a block at that moment; no library is raised above the count it had; when the last caller
leaves, every library gets back the count it had before the first came in. Callers may enter and leave in
any order and from any thread (a limit held by two independent counters, each restoring "its" original,
could otherwise be left behind for good when they interleave).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_asked: Counter[int] = Counter()  # thread counts asked for by the callers inside a block
_original: dict[str, int] = {}  # BLAS library path -> its thread count before the first caller came in
_controller: Any = None


def _apply() -> None:
    """Set every BLAS library to min(its original count, the smallest count asked for), or back to its
    original count when nobody asks. Called with the lock held."""
    global _controller
    if _asked and not _original:  # a first caller: look again (a library may have loaded since the last)
        _controller = ThreadpoolController()
        _original.update({lib["filepath"]: lib["num_threads"] for lib in _controller.info()
                          if lib["user_api"] == "blas"})
    target = min(_asked) if _asked else None
    limits = {path: (n if target is None else min(n, target)) for path, n in _original.items()}
    if limits:
        _controller.limit(limits=limits)
    if target is None:
        _original.clear()


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """numpy's BLAS on at most ``n`` threads (at least 1) while inside this block (see the module)."""
    n = max(1, int(n))
    with _lock:
        _asked[n] += 1
        _apply()
    try:
        yield
    finally:
        with _lock:
            _asked[n] -= 1
            if _asked[n] == 0:
                del _asked[n]
            _apply()


def _reset_after_fork() -> None:
    """A forked child has none of the parent's callers inside a block (their threads do not exist there).
    It keeps the parent's record of the original counts, so its own first caller restores them on leaving."""
    global _lock
    _lock = threading.Lock()
    _asked.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
