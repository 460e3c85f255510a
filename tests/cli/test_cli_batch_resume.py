"""A batch run killed with ``kill -9`` and rerun analyses every input exactly once (no line lost, none
doubled); the same batch on a local two-node Ray cluster through ``address``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emoreason.batch import analyze_batch

HERE = Path(__file__).resolve().parent
SRC = str(HERE.parents[1] / "src")
FAKE = "fake_analyzer:analyze"
LABELS = [f"label{i:02d}" for i in range(12)]
RUN = ("import sys; from emoreason.batch import analyze_batch; "
       "analyze_batch(sys.argv[3:], sys.argv[1], workers=int(sys.argv[2]), analyzer='fake_analyzer:analyze', "
       "progress=False)")


@pytest.fixture
def archive(tmp_path, monkeypatch) -> list[str]:
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), SRC, os.environ.get("PYTHONPATH", "")]))
    paths = []
    for label in LABELS:
        (tmp_path / f"{label}.wav").write_text(label)
        paths.append(str(tmp_path / f"{label}.wav"))
    return paths


def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(c) for c in f.read().split()}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def run_and_kill(out: Path, paths: list[str], workers: int, after: int, group: bool) -> int:
    """Start a batch; once ``out`` has ``after`` lines, SIGKILL the driver alone (its worker processes
    must then end by themselves) or its whole group."""
    env = {**os.environ, "FAKE_ANALYZER_DELAY": "0.3"}
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(out), str(workers), *paths], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None and count_lines(out) < after:
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                workers_left = children(proc.pid)
                os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    if not group:
        deadline = time.monotonic() + 10
        while any(alive(p) for p in workers_left) and time.monotonic() < deadline:
            time.sleep(0.05)
        orphans = [p for p in workers_left if alive(p)]
        for p in orphans:
            os.kill(p, signal.SIGKILL)
        assert not orphans, "worker processes outlived the killed run"
    return count_lines(out)


def test_kill_9_and_resume_analyses_every_input_exactly_once(archive, tmp_path):
    out = tmp_path / "results.jsonl"
    first = run_and_kill(out, archive, workers=2, after=2, group=False)  # the driver alone, as `kill -9 PID`
    assert 2 <= first < len(archive), "the first run should have been cut off part-way"
    second = run_and_kill(out, archive, workers=1, after=first + 2, group=True)
    assert first < second < len(archive)
    s = analyze_batch(archive, out, workers=2, analyzer=FAKE, progress=False)
    assert s.skipped == second and s.this_run == len(archive) - second and s.failed == 0
    records = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert sorted(r["input"] for r in records) == archive  # each input once: none lost, none doubled
    assert all(r["label"] == Path(r["input"]).stem for r in records)
    assert not (tmp_path / "results.failures.jsonl").exists()


def test_ray_backend_on_a_local_two_node_cluster(archive, tmp_path):
    """About 12 s on 2 shared cores (two Ray nodes start): not marked slow, so CI runs it."""
    ray = pytest.importorskip("ray", reason="the Ray backend is optional (emoreason[distributed])")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        out = tmp_path / "results.jsonl"
        analyze_batch(archive[:4], out, backend="ray", address=cluster.address, analyzer=FAKE, progress=False)
        s = analyze_batch(archive, out, backend="ray", address=cluster.address, analyzer=FAKE, progress=False)
        assert (s.skipped, s.this_run, s.analysed, s.failed) == (4, 8, 12, 0)
        assert not ray.is_initialized()  # the connection it opened is closed
    finally:
        cluster.shutdown()
    records = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert sorted(r["input"] for r in records) == archive
    assert len({r["pid"] for r in records}) >= 2 and os.getpid() not in {r["pid"] for r in records}
