"""Run the builder over many clips: worker processes or Ray tasks, a progress bar, resumable, then a
deterministic merge. The running itself (pool, dying workers, Ray, lock, bar) is
:mod:`emoreason.io.batch_runner`'s, shared with ``emoreason analyze`` on an archive.

Layout of the output directory::

    OUT/build_config.json       the BuildOptions of this build (a rerun must use the same)
    OUT/clips/<id>.json         one record per finished clip (written atomically: present means done)
    OUT/failed/<id>.json        why a clip could not be used (retried on the next run)
    OUT/frames/<id>.jpg         peak frames;  OUT/series/<id>.{aus,prosody}.csv  per-clip tables
    OUT/build.log               one line per clip outcome (append-only, for people)
    OUT/dataset.jsonl, OUT/merr/*, OUT/sharegpt_{video,image}.json, OUT/failed.jsonl, OUT/summary.json
                                the merge, rebuilt from clips/ in manifest order at the end of each run
    OUT/timings.json            seconds per stage (the one output that differs between runs)

Kill the run at any moment (even ``kill -9``) and run it again: finished clips are skipped, a clip
cut off half-way is redone from scratch, and the merge reads only complete files, so the outputs are
the same as those of an uninterrupted run, with no clip twice and none lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.errors import ConfigError, ModelError
from emoreason.io.atomic import atomic_write_text
from emoreason.io.batch_runner import WorkerDied, advance, exclusive, progress_bar, run_items
from emoreason.io.outputs import check_output_dir
from emoreason.labels import get_label_map

from .builder import BuildOptions, build_record, strip_private
from .feature_cache import cache_features
from .manifest import ClipSpec, load_manifest
from .people import export_records
from .writers import write_jsonl, write_merr, write_sharegpt

log = logging.getLogger(__name__)
#: Errors of the setup (a model file missing or broken, a bad option), not of a clip: they stop the run.
SETUP_ERRORS = (ModelError, ConfigError)


@dataclass
class ClipOutcome:
    clip_id: str
    ok: bool
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class BuildSummary:
    clips: int
    done: int
    failed: int
    processed_this_run: int
    skipped_as_done: int
    exported: dict[str, int]
    wall_seconds: float
    out_dir: str
    features: dict[str, Any] | None = None  # the feature-cache step's counts (--features)

    def describe(self) -> str:
        """What the run did, in the lines ``emoreason build-dataset`` prints."""
        e = self.exported
        lines = [f"{self.done}/{self.clips} clips built ({self.processed_this_run} this run, "
                 f"{self.skipped_as_done} already done), {self.failed} failed "
                 f"(see {self.out_dir}/failed.jsonl); exported MERR coarse {e['merr_coarse']}, "
                 f"fine {e['merr_fine']}, ShareGPT {e['sharegpt']}; "
                 f"{self.wall_seconds:.1f} s"]
        if self.features is not None:
            lines.append(f"feature cache: {self.features['clips_cached']} clips in {self.features['cache']} "
                         f"(recipe for train-llm: {self.features['recipe']})")
        return "\n".join(lines)


def process_clip(spec: ClipSpec, options: BuildOptions, out_dir: str) -> ClipOutcome:
    """Build one clip's record and store it (or the reason it failed). Never raises for a bad clip."""
    out = Path(out_dir)
    seed = int(hashlib.sha256(f"{options.seed}:{spec.clip_id}".encode()).hexdigest()[:8], 16)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        record = build_record(spec, options, out)
    except SETUP_ERRORS:
        raise  # not this clip's fault: every clip would fail the same way, so the run stops
    except Exception as exc:  # noqa: BLE001 - any failure of one clip is logged, never stops the run
        return _record_failure(spec, out, f"{exc.__class__.__name__}: {exc}".strip())
    atomic_write_text(out / "clips" / f"{spec.clip_id}.json",
                      json.dumps(record, ensure_ascii=False, sort_keys=True))
    with contextlib.suppress(FileNotFoundError):
        (out / "failed" / f"{spec.clip_id}.json").unlink()
    return ClipOutcome(spec.clip_id, True, timings=record.get("_timings", {}))


def build_dataset(source: str | Path, out_dir: str | Path, options: BuildOptions | None = None, *,
                  workers: int = 1, progress: bool = True, keep_contradictions: bool = False,
                  max_tasks_per_child: int = 200, limit: int | None = None, backend: str = "processes",
                  address: str | None = None, num_cpus: int | None = None) -> BuildSummary:
    """Build (or resume) the dataset of ``source`` (a video directory or CSV manifest) into ``out_dir``.

    The clips run through :func:`emoreason.io.batch_runner.run_items`: ``workers`` processes in parallel
    (1 = in this process), each replaced after ``max_tasks_per_child`` clips so memory cannot creep up, at
    most ``2 x workers`` clips in flight; or, with ``backend="ray"``, one Ray task per clip on the cluster
    at ``address`` (default: a local Ray instance with ``num_cpus``). ``limit`` processes only the first N
    clips of the manifest (a trial run).
    """
    options = options or BuildOptions()
    if workers < 1 or max_tasks_per_child < 1 or (limit is not None and limit < 1):
        raise ConfigError(f"workers, --max-tasks-per-child and --limit must be at least 1 "
                          f"(got {workers}, {max_tasks_per_child}, {limit})")
    check_build_output(out_dir)
    specs = load_manifest(source)[:limit] if limit else load_manifest(source)
    _check_labels(specs, options.label_set)
    out = Path(out_dir).resolve()  # workers (Ray: on other machines) write here: an absolute path
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with exclusive(out / ".lock", f"the build in {out}"):
        _check_config(out, options)
        done = {s.clip_id for s in specs if _is_done(out, s.clip_id)}
        todo = [s for s in specs if s.clip_id not in done]
        bar = progress_bar(progress, len(specs), len(done), unit="clip", desc="building")
        outcomes: list[ClipOutcome] = []

        def record(spec: ClipSpec, o: ClipOutcome | WorkerDied) -> None:
            if isinstance(o, WorkerDied):
                o = _record_failure(spec, out, o.reason)
            outcomes.append(o)
            # with a bar, failures show as its counter (their reasons: build.log)
            _log_line(out, o, warn=bar is None)
            advance(bar, failed=not o.ok)

        try:
            run_items(todo, process_clip, record, args=(options, str(out)), workers=workers,
                      backend=backend, address=address, num_cpus=num_cpus,
                      max_tasks_per_child=max_tasks_per_child, setup_errors=SETUP_ERRORS)
        finally:
            if bar is not None:
                bar.close()
        exported, features = export_outputs(specs, out, options, keep_contradictions)
    return summarise(out, specs, outcomes, done, exported, features, t0)


#: What a build leaves in its folder from its first moments (the lock, the options, per-clip files).
BUILD_MARKERS = (".lock", "build_config.json", "clips", "failed")


def check_build_output(out_dir: str | Path) -> Path:
    """A ConfigError unless ``out_dir`` can take a build: a new or empty folder we can write in, or an
    earlier build's folder (resumed; its options are compared later). Creates nothing."""
    return check_output_dir(out_dir, "-o", kind="build-dataset run",
                            is_resumable=lambda p: any((p / m).exists() for m in BUILD_MARKERS))


def export_outputs(specs: Sequence[ClipSpec], out: Path, options: BuildOptions,
                   keep_contradictions: bool) -> tuple[dict, Any]:
    """Merge the per-clip results into every output format, then build the feature cache if asked."""
    exported = merge(specs, out, options, keep_contradictions)
    features = None
    if options.features:
        features = cache_features(out, options.features)
    return exported, features


def summarise(out: Path, specs: Sequence[ClipSpec], outcomes: Sequence[ClipOutcome], done: set[str],
              exported: dict, features: Any, t0: float) -> BuildSummary:
    """Write timings.json and return the run's summary."""
    wall = time.perf_counter() - t0
    _write_timings(out, specs, outcomes, wall)
    return BuildSummary(clips=len(specs), done=exported["records"], failed=exported["failed"],
                        processed_this_run=len(outcomes), skipped_as_done=len(done),
                        exported=exported, wall_seconds=wall, out_dir=str(out), features=features)


def _record_failure(spec: ClipSpec, out: Path, reason: str) -> ClipOutcome:
    """Store why ``spec`` could not be used (``failed/<id>.json``, retried on the next run)."""
    atomic_write_text(out / "failed" / f"{spec.clip_id}.json",
                      json.dumps({"id": spec.clip_id, "path": spec.path, "reason": reason}, sort_keys=True))
    return ClipOutcome(spec.clip_id, False, reason)


def merge(specs: Sequence[ClipSpec], out: Path, options: BuildOptions,
          keep_contradictions: bool) -> dict[str, int]:
    """Rebuild every merged output from the per-clip files, in manifest order (deterministic)."""
    records: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for s in specs:
        rec = _read_json(out / "clips" / f"{s.clip_id}.json")
        if rec is not None:
            records.append(strip_private(rec))
            continue
        fail = _read_json(out / "failed" / f"{s.clip_id}.json")
        failed.append(fail or {"id": s.clip_id, "path": s.path, "reason": "not processed"})
    write_jsonl(records, out / "dataset.jsonl")
    write_jsonl(failed, out / "failed.jsonl")
    exported = export_records(records, options.people)  # with people: one entry per person
    merr = write_merr(exported, out / "merr", keep_contradictions=keep_contradictions)
    n_video = write_sharegpt(exported, out / "sharegpt_video.json", seed=options.seed, media="video",
                             keep_contradictions=keep_contradictions)
    write_sharegpt(exported, out / "sharegpt_image.json", seed=options.seed, media="image",
                   keep_contradictions=keep_contradictions)
    counts = {
        "clips": len(specs), "records": len(records), "failed": len(failed),
        "merr_coarse": merr["coarse"], "merr_fine": merr["fine"], "sharegpt": n_video,
        "no_canonical_label": sum(1 for r in records if not r.get("label")),
        "reasoning_contradicts_label": sum(1 for r in records
                                           if (r.get("reasoning_check") or {}).get("contradicts")),
        "merr_rule_fired": sum(1 for r in records if r["pseudo_label"]["merr_rule"]),
        "merr_rule_agrees_with_model": sum(1 for r in records if r["pseudo_label"]["agree"] is True),
        "merr_rule_disagrees_with_model": sum(1 for r in records if r["pseudo_label"]["agree"] is False),
    }
    labels: dict[str, int] = {}
    for r in records:
        labels[str(r.get("label"))] = labels.get(str(r.get("label")), 0) + 1
    counts_out = {**counts, "labels": dict(sorted(labels.items())), "options": options.to_dict()}
    atomic_write_text(out / "summary.json", json.dumps(counts_out, indent=2, sort_keys=True))
    return counts


def _write_timings(out: Path, specs: Sequence[ClipSpec], outcomes: Sequence[ClipOutcome],
                   wall: float) -> None:
    stages: dict[str, list[float]] = {}
    for s in specs:
        rec = _read_json(out / "clips" / f"{s.clip_id}.json")
        for stage, sec in ((rec or {}).get("_timings") or {}).items():
            stages.setdefault(stage, []).append(float(sec))
    per_stage = {k: {"clips": len(v), "mean_s": sum(v) / len(v), "median_s": sorted(v)[len(v) // 2],
                     "clips_per_min_one_process": 60 * len(v) / max(sum(v), 1e-9)} for k, v in stages.items()}
    atomic_write_text(out / "timings.json", json.dumps(
        {"stages": per_stage, "this_run": {"clips": len(outcomes), "wall_s": wall,
                                           "clips_per_min": 60 * len(outcomes) / wall if wall > 0 else None}},
        indent=2, sort_keys=True))


def _check_labels(specs: Sequence[ClipSpec], label_set: str) -> None:
    lm = get_label_map(label_set)
    bad = sorted({s.label for s in specs
                  if s.label is not None and s.label.strip().lower() not in lm.to_canonical})
    if bad:
        raise ConfigError(f"labels not in the {lm.name} label set: {', '.join(bad[:5])}"
                          f"{' ...' if len(bad) > 5 else ''} (known: {', '.join(lm.labels)}; see --labels)")


def _check_config(out: Path, options: BuildOptions) -> None:
    path = out / "build_config.json"
    wanted = options.to_dict()
    old = _read_json(path)
    if old is not None and old != wanted:
        diff = ", ".join(f"{k} was {old.get(k)!r}, now {wanted.get(k)!r}"
                         for k in sorted(set(old) | set(wanted)) if old.get(k) != wanted.get(k))
        raise ConfigError(f"{out} holds a build made with other options ({diff}); "
                          "use another output directory")
    if old is None:
        atomic_write_text(path, json.dumps(wanted, indent=2, sort_keys=True))


def _is_done(out: Path, clip_id: str) -> bool:
    return _read_json(out / "clips" / f"{clip_id}.json") is not None


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError):
        log.warning("%s is unreadable; treating it as missing", path)
        return None


def _log_line(out: Path, o: ClipOutcome, warn: bool = True) -> None:
    line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {o.clip_id} " + ("ok" if o.ok else f"FAILED {o.reason}")
    with open(out / "build.log", "a", encoding="utf-8") as f:
        f.write(line.replace("\n", " ") + "\n")
    if not o.ok and warn:
        log.warning("%s skipped: %s", o.clip_id, o.reason)

