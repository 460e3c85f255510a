"""Optional Ray backend: the same per-clip work and the same merge, spread over a Ray cluster.

``pip install 'emoreason[distributed]'`` installs Ray. Every Ray worker must see the output directory
at the same path (a shared file system: NFS, Lustre, a mounted bucket), because each clip's worker
writes its own files there, exactly as the local worker processes do; the driver then merges them.
This is :func:`emoreason.dataset_builder.runner.build_dataset` with ``backend="ray"``: the Ray loop is
:mod:`emoreason.io.batch_runner`'s (shared with ``emoreason analyze``), so resuming, determinism and failure
handling are the local run's; a clip whose Ray task dies twice (node lost, out of memory) is recorded as
failed. Without ``address`` a local Ray instance is started (how the tests exercise this module).
"""

from __future__ import annotations

from pathlib import Path

from .builder import BuildOptions
from .runner import BuildSummary, build_dataset


def build_dataset_ray(source: str | Path, out_dir: str | Path, options: BuildOptions | None = None, *,
                      address: str | None = None, num_cpus: int | None = None,
                      keep_contradictions: bool = False, limit: int | None = None,
                      progress: bool = True) -> BuildSummary:
    """Like :func:`emoreason.dataset_builder.runner.build_dataset`, with each clip a Ray task (1 CPU each)."""
    return build_dataset(source, out_dir, options, backend="ray", address=address, num_cpus=num_cpus,
                         keep_contradictions=keep_contradictions, limit=limit, progress=progress)
