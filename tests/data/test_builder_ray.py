"""The optional Ray backend, on a local Ray instance: same outputs as the process pool."""

from __future__ import annotations

import pytest
from test_builder_runner import opts, snapshot

from emoreason.data.runner import build_dataset

ray = pytest.importorskip("ray", reason="the Ray backend is optional (pip install 'emoreason[distributed]')")


def test_ray_backend_matches_local_build(clip_dir, tmp_path):
    from emoreason.data.distributed import build_dataset_ray

    build_dataset(clip_dir, tmp_path / "local", opts(), workers=1, progress=False)
    summary = build_dataset_ray(clip_dir, tmp_path / "ray", opts(), num_cpus=2, progress=False, limit=None)
    assert summary.done == 5 and summary.failed == 2 and summary.processed_this_run == 7
    assert snapshot(tmp_path / "ray") == snapshot(tmp_path / "local")
    assert not ray.is_initialized()  # the local instance it started is shut down
