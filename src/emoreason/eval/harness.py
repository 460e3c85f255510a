"""Run one or more systems over a dataset's items: bounded process pool, resumable, with a progress bar.

A *system* is any callable ``item -> prediction`` where the prediction is an :class:`emoreason.Result`
or a dict with at least ``label`` (canonical) and optionally ``scores``, ``valence``, ``arousal``,
``explanation``; a multimodal LLM's raw greedy ``[emotion]`` answer and whether it parsed are kept from
its ``provenance`` (``emollm_answer``, ``emollm_answer_parsed``) for the parse rate. An exception while
predicting one item is logged and recorded as that item's error; the run goes on. Each finished item is
appended at once to ``{out}/predictions/{system}.jsonl``; a rerun reads that journal and skips every item
that already has a prediction (failed items are tried again). A torn last line (a run killed mid-write)
is ignored on reading.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import multiprocessing
import re
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from emoreason.errors import ConfigError
from emoreason.eval.datasets.base import EvalItem, LoadedDataset
from emoreason.io.atomic import atomic_write_text
from emoreason.labels import CANONICAL

log = logging.getLogger(__name__)

System = Callable[[EvalItem], Any]


@dataclass
class Prediction:
    """One system's answer for one item, or the error that stopped it."""

    id: str
    system: str
    label: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    valence: float | None = None
    arousal: float | None = None
    explanation: str = ""
    error: str | None = None
    seconds: float = 0.0
    answer: str | None = None  # a multimodal LLM's raw greedy [emotion] answer (provenance "emollm_answer")
    answer_parsed: bool | None = None  # whether that answer named a label ("emollm_answer_parsed")

    @property
    def ok(self) -> bool:
        return self.error is None and self.label is not None


def to_prediction(item_id: str, system: str, output: Any, seconds: float) -> Prediction:
    """Normalise a system's output (Result or dict) into a Prediction; a non-canonical label is an error."""
    if hasattr(output, "to_dict"):
        output = output.to_dict()
    if not isinstance(output, Mapping):
        return Prediction(
            item_id,
            system,
            error=f"system returned {type(output).__name__}, not a Result or dict",
            seconds=seconds,
        )
    label = output.get("label")
    if label not in CANONICAL:
        return Prediction(
            item_id, system, error=f"predicted label {label!r} is not canonical", seconds=seconds
        )
    prov = output.get("provenance") or {}
    parsed = prov.get("emollm_answer_parsed")
    return Prediction(
        id=item_id,
        system=system,
        label=label,
        scores={k: float(v) for k, v in (output.get("scores") or {}).items() if v is not None},
        valence=_num(output.get("valence")),
        arousal=_num(output.get("arousal")),
        explanation=str(output.get("explanation") or ""),
        seconds=seconds,
        answer=None if prov.get("emollm_answer") is None else str(prov["emollm_answer"]),
        answer_parsed=None if parsed is None else bool(parsed),
    )


def predict_one(system: System, name: str, item: EvalItem) -> Prediction:
    """Run ``system`` on ``item``; any exception becomes the prediction's error (logged, not raised)."""
    t0 = time.perf_counter()
    try:
        out = system(item)
    except Exception as exc:  # noqa: BLE001 - one failing clip must not stop the run
        msg = f"{type(exc).__name__}: {exc}".strip()
        log.warning("%s failed on %s: %s", name, item.id, msg)
        return Prediction(item.id, name, error=msg[:500], seconds=time.perf_counter() - t0)
    return to_prediction(item.id, name, out, time.perf_counter() - t0)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_") or "system"


def read_journal(path: Path) -> dict[str, Prediction]:
    """The latest record per id in a predictions JSONL (torn or foreign lines skipped)."""
    out: dict[str, Prediction] = {}
    if not path.is_file():
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
                out[rec["id"]] = Prediction(**rec)
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return out


# ---- worker-process side ---------------------------------------------------------------------------
_WORKER: tuple[System, str] | None = None


def _init_worker(system: System, name: str) -> None:
    global _WORKER
    _WORKER = (system, name)


def _worker_predict(item: EvalItem) -> Prediction:
    assert _WORKER is not None
    return predict_one(_WORKER[0], _WORKER[1], item)


# ---- the run -----------------------------------------------------------------------------------------
def run_system(
    system: System,
    name: str,
    items: list[EvalItem],
    journal: Path,
    *,
    workers: int = 1,
    progress: bool = True,
    resume: bool = True,
) -> list[Prediction]:
    """Predict every item (skipping those already in ``journal`` when ``resume``); one Prediction per item.

    ``workers`` > 1 runs a bounded pool of that many processes (spawned, so the system must be picklable);
    at most ``2 * workers`` items are in flight. Results come back in the items' order.
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    done = read_journal(journal) if resume else {}
    if not resume and journal.exists():
        journal.unlink()
    finished = {k: v for k, v in done.items() if v.ok}
    todo = [it for it in items if it.id not in finished]
    if finished:
        log.info(
            "%s: %d of %d items already predicted in %s", name, len(items) - len(todo), len(items), journal
        )
    journal.parent.mkdir(parents=True, exist_ok=True)
    _check_fingerprint(system, journal, resume)
    bar = _bar(len(todo), name, progress)
    n_failed = 0
    with open(journal, "a", encoding="utf-8") as sink:
        for pred in _predictions(system, name, todo, workers):
            sink.write(json.dumps(asdict(pred), ensure_ascii=False) + "\n")
            sink.flush()
            finished[pred.id] = pred
            bar.update(1)
            if pred.error:
                n_failed += 1
                bar.set_postfix_str(f"failed: {n_failed}")
    bar.close()
    return [finished[it.id] for it in items]


def _check_fingerprint(system: System, journal: Path, resume: bool) -> None:
    """Refuse to resume a journal written by a differently configured system under the same name."""
    fingerprint = hashlib.sha256(repr(system).encode()).hexdigest()
    side = journal.with_suffix(".system")
    if resume and side.is_file() and journal.is_file() and side.read_text().strip() != fingerprint:
        raise ConfigError(
            f"{journal} was written by a differently configured system of the same name; "
            "use --fresh or another output folder"
        )
    atomic_write_text(side, fingerprint + "\n")


def _predictions(system: System, name: str, todo: list[EvalItem], workers: int) -> Iterable[Prediction]:
    if workers == 1 or len(todo) <= 1 or getattr(system, "runs_in_groups", False):
        for it in todo:
            yield predict_one(system, name, it)
        return
    ctx = multiprocessing.get_context("spawn")
    pending: dict[Future, EvalItem] = {}
    queue = iter(todo)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(system, name)
    ) as pool:

        def submit(item: EvalItem) -> None:
            try:
                pending[pool.submit(_worker_predict, item)] = item
            except BrokenProcessPool:  # an earlier worker died: record the item, do not stop the run
                orphans.append(item)

        orphans: list[EvalItem] = []
        for it in itertools.islice(queue, 2 * workers):
            submit(it)
        while pending or orphans:
            while orphans:  # the pool is broken: every remaining item is recorded as not run
                yield Prediction(
                    orphans.pop(0).id, name, error="worker process died (pool broken); rerun to retry"
                )
                nxt = next(queue, None)
                if nxt is not None:
                    submit(nxt)
            if not pending:
                continue
            ready, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in ready:
                item = pending.pop(fut)
                try:
                    yield fut.result()
                except BrokenProcessPool as exc:
                    log.warning("%s: worker died on %s: %s", name, item.id, exc)
                    yield Prediction(item.id, name, error=f"worker process died: {exc}"[:500])
                nxt = next(queue, None)
                if nxt is not None:
                    submit(nxt)


def run_all(
    dataset: LoadedDataset,
    systems: Mapping[str, System],
    out_dir: Path,
    *,
    workers: int = 1,
    progress: bool = True,
    resume: bool = True,
) -> dict[str, list[Prediction]]:
    """Every system over every item of ``dataset``; journals in ``out_dir/predictions``."""
    names = [safe_name(n) for n in systems]
    if len(set(names)) != len(names):
        raise ConfigError(f"system names must differ after making them file-safe: {', '.join(systems)}")
    return {
        name: run_system(
            sys_,
            name,
            dataset.items,
            out_dir / "predictions" / f"{safe_name(name)}.jsonl",
            workers=workers,
            progress=progress,
            resume=resume,
        )
        for name, sys_ in systems.items()
    }


def _bar(total: int, name: str, enabled: bool) -> tqdm:
    return tqdm(total=total, desc=name, unit="item", disable=not enabled, leave=True, dynamic_ncols=True)


def _num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
