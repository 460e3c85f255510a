"""A batched MiniLM call's work: encodings cut into batches of similar length (:func:`length_batches`)
and the batches run on up to two threads (:func:`map_batches`), numpy's BLAS on one thread each meanwhile.

Each batch's numbers are the same on any thread; only the wall time changes. The BLAS limit is the
process-wide one of :mod:`emoreason.blas_threads`, held while a threaded call runs, so other numpy work
running at that moment also has one BLAS thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from emoreason.blas_threads import blas_threads

# a forward pass's fixed cost in tokens: one row of 40 tokens took 21 ms, 4-32 rows 0.33-0.37 ms per token
# (numpy, one BLAS thread, 2026-12-05): about 25 tokens' worth of work per call
CALL_TOKENS = 25
# a batched call's forward passes run on up to this many threads (numpy releases the GIL in its matrix
# products and array operations), each with one BLAS thread while they run: two single-threaded passes side
# by side use both cores of a 2-core machine with less waiting than one pass on two BLAS threads (50 MELD
# dev utterances with context, 2026-12-05: 5.6 -> 4.6 s wall, 9.3 -> 6.6 CPU-s); each batch's numbers are
# the same either way. A call of fewer padded tokens than MIN_THREADED_TOKENS runs on the calling thread
# (BLAS threads as they are): for one sentence with context (three members, about 60 tokens each) two
# threads took 25% longer, for two sentences as long, from four on less (the ensemble, 64 MELD dev
# utterances in calls of 1, 2, 4 ... 32)
MAX_BATCH_THREADS = 2
MIN_THREADED_TOKENS = 512
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def batch_threads() -> int:
    """Threads :func:`map_batches` uses: the CPUs this process may run on, at most
    :data:`MAX_BATCH_THREADS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_BATCH_THREADS, cpus))


def _reset_after_fork() -> None:
    """A forked child has none of its parent's pool threads (and may inherit a held lock): it starts
    without a pool and makes its own on first use."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def padded_tokens(encs: list) -> int:
    """Tokens a batch of encodings computes, padding included."""
    return len(encs) * max((len(e.ids) for e in encs), default=0)


def total_tokens(batches: Iterable[list]) -> int:
    """Tokens several batches of encodings compute, padding included: :func:`map_batches`' ``tokens``."""
    return sum(padded_tokens(encs) for encs in batches)


def map_batches(fn: Callable, batches: Iterable, tokens: int) -> list:
    """``[fn(b) for b in batches]``, the calls spread over :func:`batch_threads` threads (one shared pool,
    made on first use), numpy's BLAS on one thread meanwhile (:func:`emoreason.blas_threads.blas_threads`);
    results in order, the first exception raised. ``tokens``: the padded
    tokens of all the batches; below :data:`MIN_THREADED_TOKENS` they run on the calling thread."""
    batches = list(batches)
    threads = batch_threads()
    if threads == 1 or len(batches) < 2 or tokens < MIN_THREADED_TOKENS:
        return [fn(b) for b in batches]
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(threads, thread_name_prefix="emoreason-text")
        pool = _pool
    with blas_threads(1):
        return list(pool.map(fn, batches))


def length_batches(encs: list, batch_size: int, call_tokens: int = CALL_TOKENS) -> list[np.ndarray]:
    """Indices of ``encs`` sorted by token count (stable) and cut into batches of at most ``batch_size``
    rows, the cuts chosen to minimise the tokens computed (rows x longest, padding included) plus
    ``call_tokens`` per batch (a forward pass's fixed cost): rows of nearly the same length share a batch,
    and a batch is cut where the lengths jump."""
    order = np.argsort([len(e.ids) for e in encs], kind="stable")
    lengths = [len(encs[k].ids) for k in order]
    n = len(order)
    cost, start = [0] + [0] * n, [0] * (n + 1)
    for j in range(1, n + 1):  # cost[j]: the best batching of the j shortest rows
        cost[j], start[j] = min((cost[i] + (j - i) * lengths[j - 1] + call_tokens, i)
                                for i in range(max(0, j - batch_size), j))
    cuts, j = [], n
    while j > 0:
        cuts.append((start[j], j))
        j = start[j]
    return [order[a:b] for a, b in reversed(cuts)]
