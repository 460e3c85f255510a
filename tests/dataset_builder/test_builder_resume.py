"""kill -9 at any moment, rerun: the same outputs as an uninterrupted run, no duplicates, no lost clips."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_perception import CLIP_NAMES, FAKE_PERCEIVER
from test_builder_runner import opts, snapshot

from emoreason.dataset_builder.runner import build_dataset
from emoreason.dataset_builder.writers import read_jsonl


def cli(clip_dir: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "emoreason.cli.main", "build-dataset", str(clip_dir), "-o", str(out),
            "--perceiver", FAKE_PERCEIVER, "-j", str(workers), "--no-progress"]


def run_and_kill(cmd: list[str], out: Path, after_done: int, delay: float) -> int:
    """Start the build in its own process group; SIGKILL the group once ``after_done`` clips are stored."""
    env = {**os.environ, "FAKE_PERCEPTION_DELAY": str(delay)}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((out / "clips").glob("*.json"))) >= after_done:
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    return len(list((out / "clips").glob("*.json")))


def test_kill_and_resume_gives_the_uninterrupted_output(clip_dir, tmp_path):
    reference = tmp_path / "reference"
    build_dataset(clip_dir, reference, opts(), workers=1, progress=False)
    out = tmp_path / "killed"
    first = run_and_kill(cli(clip_dir, out, 2), out, after_done=1, delay=0.4)  # kills workers too
    assert 1 <= first < len(CLIP_NAMES), "the first run should have been cut off part-way"
    assert not (out / "dataset.jsonl").exists()
    second = run_and_kill(cli(clip_dir, out, 1), out, after_done=first + 1, delay=0.4)
    assert first < second <= len(CLIP_NAMES)
    done = subprocess.run(cli(clip_dir, out, 2), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "5/7 clips built" in done.stderr
    ids = [r["id"] for r in read_jsonl(out / "dataset.jsonl")]
    assert ids == sorted(CLIP_NAMES)  # every clip once, none lost
    assert snapshot(out) == snapshot(reference)
