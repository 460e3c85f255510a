"""The optional Ray backend, on a local Ray instance: same outputs as the process pool; a dying task."""

from __future__ import annotations

import shutil

import pytest
from fake_perception import make_clip
from test_builder_runner import opts, snapshot

from emoreason.dataset_builder.runner import build_dataset
from emoreason.dataset_builder.writers import read_jsonl

ray = pytest.importorskip("ray", reason="the Ray backend is optional (pip install 'emoreason[distributed]')")


@pytest.mark.slow  # about 20 s: a local Ray instance starts, and a dying task is retried
def test_ray_backend_matches_local_build_and_survives_a_dying_task(clip_dir, tmp_path, monkeypatch):
    from emoreason.dataset_builder.distributed import build_dataset_ray

    build_dataset(clip_dir, tmp_path / "local", opts(), workers=1, progress=False)
    src = tmp_path / "src"
    shutil.copytree(clip_dir, src)
    make_clip(src / "crash_z.mp4")  # its worker process exits: Ray retries once, then it is recorded
    monkeypatch.setenv("FAKE_PERCEPTION_ALLOW_CRASH", "1")
    summary = build_dataset_ray(src, tmp_path / "ray", opts(), num_cpus=2, progress=False)
    assert summary.done == 5 and summary.failed == 3 and summary.processed_this_run == 8
    assert not ray.is_initialized()  # the local instance it started is shut down
    failed = {f["id"]: f["reason"] for f in read_jsonl(tmp_path / "ray" / "failed.jsonl")}
    assert failed["crash_z"].startswith("worker process died")
    local, remote = snapshot(tmp_path / "local"), snapshot(tmp_path / "ray")
    for name in ("failed.jsonl", "summary.json"):  # these count the extra crashing clip
        local.pop(name), remote.pop(name)
    # the clips were copied: the same files under another folder
    remote = {k: v.replace(str(src).encode(), str(clip_dir).encode()) for k, v in remote.items()}
    assert remote == local
