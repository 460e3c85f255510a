"""Run one function over many work items, resumably: the mechanism shared by ``analyze`` on an archive
(:mod:`emoreason.batch`) and the dataset builder (:mod:`emoreason.dataset_builder.runner`).

- :func:`run_items` calls ``fn(item, *args)`` for every item, in this process (``workers=1``), on
  ``workers`` local worker processes, or as Ray tasks (``backend="ray"``), and hands each outcome to
  ``on_done(item, outcome)`` in the calling process as soon as it finishes (in finishing order). A worker
  process that dies (a crash, the out-of-memory killer) gives a :class:`WorkerDied` outcome for the item
  that killed it, and only for that one: the items in flight beside it are rerun one at a time to find
  it. An exception of ``setup_errors`` (a missing model, a bad option: every item would fail the same way)
  stops the run; ``fn`` records every other failure of one item itself and returns.
- :class:`JsonlLog` is an append-only JSON-lines file: each record is one ``write`` of a whole line
  then ``fsync``; on opening, a last line torn by ``kill -9`` is cut off (its item is redone) and the
  records already there are read back, so a rerun skips them.
- :func:`exclusive` stops two runs from writing the same output at once; :func:`progress_bar` is the
  tqdm bar (with an ETA, and a count of failures) both show.

ray is imported inside :func:`run_items`, only for ``backend="ray"`` (optional, and heavy).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from emoreason.errors import ConfigError

log = logging.getLogger(__name__)
BACKENDS = ("processes", "ray")
MAX_ATTEMPTS = 2  # Ray backend: a task whose worker dies is retried once, then reported as WorkerDied
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
WORKER_DIED = "worker process died while processing it (a crash, or killed for memory)"


@dataclass(frozen=True)
class WorkerDied:
    """The outcome of an item whose worker process died while running it."""

    reason: str = WORKER_DIED


def run_items(items: Sequence[Any], fn: Callable[..., Any], on_done: Callable[[Any, Any], None], *,
              args: tuple = (), workers: int = 1, backend: str = "processes", address: str | None = None,
              num_cpus: int | None = None, max_tasks_per_child: int = 200,
              setup_errors: tuple[type[BaseException], ...] = ()) -> None:
    """Call ``fn(item, *args)`` for each of ``items`` and ``on_done(item, outcome)`` as each finishes.

    ``backend="processes"``: ``workers`` spawned processes (1 = in this process), each replaced after
    ``max_tasks_per_child`` items so memory cannot creep up, ``2 x workers`` items in flight, each
    worker's math-library threads capped to its share of the cores. ``backend="ray"``: one Ray task (1 CPU)
    per item, on the cluster at ``address`` (default: a local Ray instance with ``num_cpus``, shut down at
    the end), ``2 x`` the cluster's CPUs in flight; ``fn``, ``args`` and the items must be importable and
    picklable there (the package installed on every node)."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if workers < 1 or max_tasks_per_child < 1:
        raise ConfigError(f"workers and max_tasks_per_child must be at least 1 "
                          f"(got {workers}, {max_tasks_per_child})")
    if not items:
        return
    if backend == "ray":
        _run_ray(items, fn, on_done, args, address, num_cpus, setup_errors)
    elif workers == 1 or len(items) == 1:
        for item in items:
            on_done(item, fn(item, *args))
    else:
        _run_pool(items, fn, on_done, args, workers, max_tasks_per_child)


def _run_pool(items: Sequence[Any], fn: Callable, on_done: Callable, args: tuple, workers: int,
              max_tasks_per_child: int) -> None:
    """The process pool. When a worker dies the pool breaks and every item in flight becomes a suspect;
    suspects are rerun one at a time on a fresh pool, so the item that kills its worker alone is reported
    as :class:`WorkerDied` and the innocent ones simply finish."""
    queue = list(reversed(items))
    suspects: list[Any] = []
    ctx = multiprocessing.get_context("spawn")
    threads = max(1, (os.cpu_count() or 1) // workers)
    while queue or suspects:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                   max_tasks_per_child=max_tasks_per_child,
                                   initializer=_init_worker, initargs=(threads,))
        in_flight: dict[Future, tuple[Any, bool]] = {}
        broken = False
        try:
            while (queue or suspects or in_flight) and not (broken and not in_flight):
                if not broken and suspects and not in_flight:
                    broken = not _submit(pool, in_flight, suspects, fn, args, alone=True)
                while not broken and not suspects and queue and len(in_flight) < 2 * workers:
                    broken = not _submit(pool, in_flight, queue, fn, args, alone=False)
                if not in_flight:
                    break
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in finished:
                    item, alone = in_flight.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if alone:
                            on_done(item, WorkerDied())
                        else:
                            suspects.append(item)
                        continue
                    on_done(item, outcome)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _init_worker(threads: int) -> None:
    """Share the cores between workers: cap each worker's math-library threads (unless the user set them);
    and end the worker when the process that started it is gone (``kill -9`` of the run would otherwise
    leave it waiting for work forever)."""
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, str(threads))
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="exit-with-parent",
                     daemon=True).start()


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def _submit(pool: ProcessPoolExecutor, in_flight: dict, source: list, fn: Callable, args: tuple,
            alone: bool) -> bool:
    """Move the last item of ``source`` onto the pool; False (item put back) if the pool is broken."""
    item = source.pop()
    try:
        in_flight[pool.submit(fn, item, *args)] = (item, alone)
    except BrokenProcessPool:
        source.append(item)
        return False
    return True


def _run_ray(items: Sequence[Any], fn: Callable, on_done: Callable, args: tuple, address: str | None,
             num_cpus: int | None, setup_errors: tuple) -> None:
    try:
        import ray
    except ImportError:
        raise ConfigError("the Ray backend needs Ray: pip install 'emoreason[distributed]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    died = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.OutOfMemoryError)
    try:
        limit = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_retries=MAX_ATTEMPTS - 1)(fn)
        shared = [ray.put(a) for a in args]
        queue = list(reversed(items))
        in_flight: dict = {}
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                item = queue.pop()
                in_flight[task.remote(item, *shared)] = item
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                item = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except died:
                    outcome = WorkerDied()
                except ray.exceptions.RayTaskError as exc:  # a setup error stops the run, as locally
                    if isinstance(exc.cause, setup_errors):
                        raise exc.cause from None
                    raise
                on_done(item, outcome)
    finally:
        if started_here:
            ray.shutdown()


class JsonlLog:
    """An append-only JSON-lines file whose records survive ``kill -9`` whole or not at all."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def read(self) -> Iterator[dict]:
        """The records in the file, one at a time (none if it does not exist), after :meth:`repair`.

        A line in the middle that is not a JSON object cannot come from an interrupted append: that file
        is not one of ours, and a :class:`ConfigError` says so rather than appending to it."""
        self.repair()
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            return
        with f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    record = None
                if not isinstance(record, dict):
                    raise ConfigError(f"{self.path}:{lineno} is not a JSON object: not a batch output this "
                                      "run can resume; give another output file")
                yield record

    def repair(self) -> None:
        """Cut off a last line without its newline (an append torn by ``kill -9``): its item is redone."""
        try:
            f = open(self.path, "r+b")
        except FileNotFoundError:
            return
        with f:
            size = f.seek(0, os.SEEK_END)
            end = size
            while end > 0:
                start = max(0, end - 65536)
                f.seek(start)
                chunk = f.read(end - start)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    end = start + newline + 1
                    break
                end = start
            if end < size:
                log.warning("%s: cutting off a torn last line (%d bytes; its input will be redone)",
                            self.path, size - end)
                f.truncate(end)
                os.fsync(f.fileno())

    def append(self, record: dict) -> None:
        """Add one record: a single ``write`` of the whole line on an ``O_APPEND`` descriptor, then fsync."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def exclusive(lock_path: str | Path, what: str) -> Iterator[None]:
    """Hold an advisory lock on ``lock_path`` for the block; a :class:`ConfigError` naming ``what`` if
    another run holds it."""
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another run is writing to {what}") from None
        yield
    finally:
        os.close(fd)


def progress_bar(enabled: bool, total: int, initial: int, unit: str, desc: str):
    """A tqdm bar (rate and ETA) starting at ``initial`` of ``total``, or None when not ``enabled``;
    :func:`advance` moves it on."""
    if not enabled:
        return None
    bar = tqdm(total=total, initial=initial, unit=unit, desc=desc, dynamic_ncols=True)
    bar.failed = 0
    return bar


def advance(bar, failed: bool) -> None:
    """One more item finished on ``bar`` (None: no bar); a failed one also counts in its postfix."""
    if bar is None:
        return
    if failed:
        bar.failed += 1
        bar.set_postfix(failed=bar.failed, refresh=False)
    bar.update(1)
