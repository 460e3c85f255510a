"""Optional Ray backend: the same per-clip work and the same merge, spread over a Ray cluster.

``pip install 'emoreason[distributed]'`` installs Ray. Every Ray worker must see the output directory
at the same path (a shared file system: NFS, Lustre, a mounted bucket), because each clip's worker
writes its own files there, exactly as the local worker processes do; the driver then merges them.
Resuming, determinism and failure handling are therefore those of :mod:`emoreason.dataset_builder.runner`:
a clip whose Ray task dies twice (node lost, out of memory) is recorded as failed.

Without ``address`` a local Ray instance is started (how the tests exercise this module). ray is
imported inside :func:`build_dataset_ray` (an optional extra, and heavy).
"""

from __future__ import annotations

import time
from pathlib import Path

from emoreason.errors import ConfigError

from .builder import BuildOptions
from .manifest import load_manifest
from .runner import (
    MAX_ATTEMPTS,
    SETUP_ERRORS,
    BuildSummary,
    ClipOutcome,
    _bar,
    _check_config,
    _check_labels,
    _exclusive,
    _is_done,
    _log_line,
    _record_crash,
    export_outputs,
    process_clip,
    summarise,
)


def build_dataset_ray(source: str | Path, out_dir: str | Path, options: BuildOptions | None = None, *,
                      address: str | None = None, num_cpus: int | None = None,
                      max_in_flight: int | None = None,
                      keep_contradictions: bool = False, limit: int | None = None,
                      progress: bool = True) -> BuildSummary:
    """Like :func:`emoreason.dataset_builder.runner.build_dataset`, with each clip a Ray task (1 CPU each)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("the Ray backend needs Ray: pip install 'emoreason[distributed]'") from None
    options = options or BuildOptions()
    specs = load_manifest(source)[:limit] if limit else load_manifest(source)
    _check_labels(specs, options.label_set)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    started_here = False
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        started_here = True
    try:
        with _exclusive(out):
            _check_config(out, options)
            done = {s.clip_id for s in specs if _is_done(out, s.clip_id)}
            todo = [s for s in specs if s.clip_id not in done]
            limit_in_flight = max_in_flight or 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
            task = ray.remote(num_cpus=1, max_retries=MAX_ATTEMPTS - 1)(process_clip)
            bar = _bar(progress, len(specs), len(done))
            outcomes: list[ClipOutcome] = []
            queue = list(reversed(todo))
            in_flight: dict = {}
            try:
                while queue or in_flight:
                    while queue and len(in_flight) < limit_in_flight:
                        spec = queue.pop()
                        in_flight[task.remote(spec, options, str(out))] = spec
                    ready, _ = ray.wait(list(in_flight), num_returns=1)
                    for ref in ready:
                        spec = in_flight.pop(ref)
                        try:
                            outcome = ray.get(ref)
                        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                                ray.exceptions.OutOfMemoryError):
                            outcome = _record_crash(spec, str(out))
                        except ray.exceptions.RayTaskError as exc:  # a setup error: stop, as locally
                            if isinstance(exc.cause, SETUP_ERRORS):
                                raise exc.cause from None
                            raise
                        outcomes.append(outcome)
                        _log_line(out, outcome, warn=bar is None)
                        if bar is not None:
                            bar.update(1)
            finally:
                if bar is not None:
                    bar.close()
            exported, features = export_outputs(specs, out, options, keep_contradictions)
    finally:
        if started_here:
            ray.shutdown()
    return summarise(out, specs, outcomes, done, exported, features, t0)
