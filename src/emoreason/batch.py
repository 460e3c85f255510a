"""Analyse a whole archive: many inputs -> one JSON line per input, resumable, on worker processes or Ray.

:func:`find_inputs` turns a folder (media files by extension, recursively, in sorted order) or a CSV
manifest (a ``path`` column; relative paths are read from the manifest's folder) into absolute paths.
:func:`analyze_batch` runs :func:`emoreason.api.analyze` on each through
:func:`emoreason.io.batch_runner.run_items` (the runner the dataset builder uses) and, as each finishes,
appends to the output (in finishing order, not input order)::

    results.jsonl             one Result JSON per analysed input, its "input" the absolute path
    results.failures.jsonl    {"input": ..., "error": {"type": ..., "message": ...}} per failed input
    results.options.json      the analysis options (a resumed run must use the same)

Kill the run at any moment (even ``kill -9``) and run it again: inputs already in either file are
skipped, a line torn by the kill is cut off and its input redone, so every input ends up exactly once.
Failed inputs are retried only with ``retry_failed=True`` (their old failure lines are dropped first).
The worker processes load the models once each (the process-wide default pipeline) and keep them.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emoreason.errors import ConfigError, EmoreasonError, InputNotFoundError, ModelError
from emoreason.io.atomic import atomic_write_text
from emoreason.io.batch_runner import JsonlLog, WorkerDied, advance, exclusive, progress_bar, run_items
from emoreason.io.image import IMAGE_SUFFIXES
from emoreason.io.paths import read_path_manifest
from emoreason.io.results import InputFailure

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv"}
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".aac", ".wma"}
MEDIA_SUFFIXES = frozenset(VIDEO_SUFFIXES | AUDIO_SUFFIXES | IMAGE_SUFFIXES)
#: Errors of the setup (a bad option, a model missing), not of one input: they stop the run.
SETUP_ERRORS = (ConfigError, ModelError)
DEFAULT_ANALYZER = "emoreason.api:analyze"
_analyzers: dict[str, Callable[..., Any]] = {}


@dataclass
class BatchSummary:
    """What :func:`analyze_batch` did. ``finished_at``: seconds from the start of the run to each input
    of this run finishing, in order (for throughput with and without the models' loading)."""

    inputs: int
    analysed: int
    failed: int
    this_run: int
    skipped: int
    wall_seconds: float
    output: str
    failures: str
    finished_at: list[float] = field(default_factory=list)

    def describe(self) -> str:
        return (f"{self.analysed}/{self.inputs} inputs analysed ({self.this_run} this run, {self.skipped} "
                f"already done or failed before), {self.failed} failed"
                + (f" (see {self.failures})" if self.failed else "") + f"; {self.wall_seconds:.1f} s")


def failures_path(output: str | Path) -> Path:
    """Where a batch writing ``output`` records failures: ``r.jsonl`` -> ``r.failures.jsonl``."""
    output = Path(output)
    return output.with_name(f"{output.stem}.failures.jsonl")


def options_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(f"{output.stem}.options.json")


def find_inputs(source: str | Path) -> list[str]:
    """The absolute paths of the inputs ``source`` names: a folder (its media files, recursively, sorted;
    hidden files skipped) or a ``.csv`` manifest with a ``path`` column (in row order)."""
    src = Path(source)
    if not src.exists():
        raise InputNotFoundError(f"{src}: no such folder or manifest file")
    if src.is_dir():
        paths = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES
                       and not any(part.startswith(".") for part in p.relative_to(src).parts))
        if not paths:
            raise InputNotFoundError(f"{src}: no media files found (looked for "
                                     f"{', '.join(sorted(MEDIA_SUFFIXES))})")
        return [os.path.abspath(p) for p in paths]
    if src.suffix.lower() != ".csv":
        raise ConfigError(f"{src}: give a folder of media files or a .csv manifest with a 'path' column")
    return _from_manifest(src)


def _from_manifest(path: Path) -> list[str]:
    inputs = [str(p) for p, _ in read_path_manifest(path)]
    if not inputs:
        raise InputNotFoundError(f"{path}: the manifest lists no inputs")
    return inputs


def analyze_input(path: str, options: dict[str, Any], analyzer: str = DEFAULT_ANALYZER) -> dict[str, Any]:
    """One input in a worker: ``{"result": <Result JSON with "input">}`` or ``{"failure": <InputFailure
    JSON>}``. A setup error (:data:`SETUP_ERRORS`) is raised, to stop the run. ``analyzer``
    (``module:function``, called as ``function(path, **options)`` and returning a Result) is loaded once
    per process."""
    fn = _analyzers.get(analyzer) or _analyzers.setdefault(analyzer, _load(analyzer))
    try:
        result = fn(path, **options)
    except SETUP_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - one input's failure is recorded, never stops the run
        log.info("%s failed", path, exc_info=not isinstance(exc, EmoreasonError))
        return {"failure": InputFailure.from_exception(path, exc).to_dict()}
    return {"result": {**result.to_dict(), "input": path}}


def _load(name: str) -> Callable[..., Any]:
    module, _, function = name.partition(":")
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"cannot load analyzer {name!r}: {exc}") from None


def analyze_batch(inputs: Sequence[str | Path], output: str | Path, *, workers: int = 1,
                  backend: str = "processes", address: str | None = None, num_cpus: int | None = None,
                  retry_failed: bool = False, progress: bool = True, analyzer: str = DEFAULT_ANALYZER,
                  max_tasks_per_child: int = 200, **options: Any) -> BatchSummary:
    """Analyse ``inputs`` (paths) into the JSON-lines file ``output`` (see the module docstring), resuming
    what an earlier run with the same ``options`` (:func:`emoreason.api.analyze`'s keywords) left there.

    ``workers`` local processes (1 = this process) or, with ``backend="ray"``, Ray tasks on the cluster at
    ``address`` (every node needs the package and sees the inputs at the same paths; results come back to
    this process, which alone writes the output)."""
    output = Path(output)
    fail_log, results_log = JsonlLog(failures_path(output)), JsonlLog(output)
    paths = list(dict.fromkeys(os.path.abspath(p) for p in inputs))
    if len(paths) < len(inputs):
        log.warning("%d inputs are listed twice: each is analysed once", len(inputs) - len(paths))
    wanted = set(paths)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with exclusive(output.with_name(f".{output.name}.lock"), str(output)):
        _check_options(output, options)
        done = {r.get("input") for r in results_log.read()} & wanted
        failed = {f.get("input") for f in fail_log.read()} & wanted
        if retry_failed and failed - done:
            kept = [f for f in fail_log.read() if f.get("input") not in wanted or f.get("input") in done]
            atomic_write_text(fail_log.path, "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in kept))
            failed &= done
        todo = [p for p in paths if p not in done and p not in failed]
        bar = progress_bar(progress, len(paths), len(paths) - len(todo), unit="input", desc="analysing")
        finished_at: list[float] = []

        def record(path: str, outcome: dict | WorkerDied) -> None:
            if isinstance(outcome, WorkerDied):
                outcome = {"failure": InputFailure(path, "WorkerDied", f"{path}: {outcome.reason}").to_dict()}
            if "result" in outcome:
                results_log.append(outcome["result"])
                done.add(path)
            else:
                fail_log.append(outcome["failure"])
                failed.add(path)
                if bar is None:
                    failure = InputFailure(path, **outcome["failure"]["error"])
                    print(f"emoreason: error: {failure.line()}", file=sys.stderr)
            finished_at.append(time.perf_counter() - started)
            advance(bar, failed="result" not in outcome)

        try:
            run_items(todo, analyze_input, record, args=(options, analyzer), workers=workers, backend=backend,
                      address=address, num_cpus=num_cpus, max_tasks_per_child=max_tasks_per_child,
                      setup_errors=SETUP_ERRORS)
        finally:
            if bar is not None:
                bar.close()
    return BatchSummary(inputs=len(paths), analysed=len(done), failed=len(failed - done),
                        this_run=len(finished_at), skipped=len(paths) - len(todo),
                        wall_seconds=time.perf_counter() - started, output=str(output),
                        failures=str(fail_log.path), finished_at=finished_at)


def _check_options(output: Path, options: dict[str, Any]) -> None:
    """Write the run's options beside the output, or refuse to resume a run made with other options."""
    path = options_path(output)
    wanted = json.loads(json.dumps(options, default=str, sort_keys=True))
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        atomic_write_text(path, json.dumps(wanted, indent=2, sort_keys=True))
        return
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigError(f"{path} is unreadable: remove it, or write to another output file") from None
    if old != wanted:
        diff = ", ".join(f"{k} was {old.get(k)!r}, now {wanted.get(k)!r}"
                         for k in sorted(set(old) | set(wanted)) if old.get(k) != wanted.get(k))
        raise ConfigError(f"{output} holds results made with other options ({diff}); "
                          "use another output file")
