"""Clips per minute of ``emoreason analyze`` over many 5-s clips: today's one-process loop (the baseline,
measured in the same run) against batch mode with ``--workers 1`` and ``--workers 2``.

Makes N synthetic 5-s clips (scikit-image's astronaut photo, slowly zoomed, 640x480 at 25 fps, with
espeak-ng speech; a tone when espeak-ng is missing), then runs each mode in a fresh Python process, so
each pays for its imports and model loading as a user's command does:

- ``loop``: ``emoreason analyze c1.mp4 ... cN.mp4 -o r.jsonl`` (a plain list: one process, one clip
  after the other, written at the end), called through ``emoreason.cli.main.main`` with the per-clip
  ``analyze`` wrapped to note when each clip finished;
- ``workers=W``: :func:`emoreason.batch.analyze_batch` (what ``analyze DIR -o r.jsonl --workers W``
  calls), which notes when each clip finished.

Printed per mode: wall seconds from starting the process to its exit, the CPU seconds it and its worker
processes used, clips/min on that wall clock
(model loading included), and clips/min excluding loading: ``60 x (N - W) / (t_N - t_W)``, with ``t_k``
the time the k-th clip finished and W the number of worker processes (1 for the loop): the rate once
every worker has finished its first clip, the one that paid for loading its models. Also the labels'
agreement with the loop, and the load average (the machine may be shared).

    python benchmarks/bench_batch.py --clips 20 --workers 1,2

The target in issue 21 is >= 2x the loop's clips/min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_build_dataset import make_clips  # the same synthetic 5-s clips (this folder is on sys.path)

LOOP = """
import json, sys, time
t0 = time.perf_counter()
import emoreason.api
from emoreason.cli import analyze as cmd
from emoreason.cli.main import main
finished, real = [], emoreason.api.analyze
def timed(*a, **k):
    r = real(*a, **k)
    finished.append(time.perf_counter() - t0)
    return r
emoreason.api.analyze = timed  # the CLI's own name too, whether it imports it at the top or on use
if hasattr(cmd, "analyze"):
    cmd.analyze = timed
code = main(["analyze", *sys.argv[2:], "-o", sys.argv[1], "--no-progress", "--modalities", MODALITIES])
print("BENCH " + json.dumps({"finished_at": finished, "code": code}))
"""
BATCH = """
import json, sys, time
t0 = time.perf_counter()
from emoreason.batch import analyze_batch
s = analyze_batch(sys.argv[3:], sys.argv[1], workers=int(sys.argv[2]), progress=False, modalities=MODALITIES)
offset = time.perf_counter() - t0 - s.wall_seconds  # imports, before analyze_batch started its clock
print("BENCH " + json.dumps({"finished_at": s.finished_at, "offset": offset, "failed": s.failed}))
"""


def run_mode(script: str, out: Path, extra: list[str], clips: list[Path], modalities: str) -> dict:
    """Run one mode in a fresh process; its wall clock, and when each clip finished (from its start)."""
    code = script.replace("MODALITIES", repr(modalities))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, str(out), *extra, *map(str, clips)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the process and its reaped workers
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"{extra or 'loop'} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    info = json.loads(line[6:])
    finished = sorted(t + info.get("offset", 0.0) for t in info["finished_at"])
    labels = {json.loads(ln)["input"]: json.loads(ln).get("label") for ln in out.read_text().splitlines()}
    return {"wall": wall, "cpu": cpu, "finished": finished, "labels": labels}


def rates(n: int, workers: int, r: dict) -> tuple[float, float]:
    t = r["finished"]
    span = t[-1] - t[workers - 1]
    return 60 * n / r["wall"], (60 * (n - workers) / span if n > workers and span > 0 else float("nan"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts for batch mode")
    ap.add_argument("--modalities", default="face,voice,text")
    ap.add_argument("--keep", type=Path, help="keep (and reuse) the clips in this folder")
    args = ap.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    clips_dir = root / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    clips = sorted(clips_dir.glob("*.mp4"))
    if len(clips) != args.clips:
        t0 = time.perf_counter()
        clips = make_clips(clips_dir, args.clips)
        print(f"made {args.clips} clips of 5 s in {time.perf_counter() - t0:.1f} s")
    print(f"cpus {os.cpu_count()}, load average at start {os.getloadavg()[0]:.2f}, "
          f"modalities {args.modalities}")
    results = {}
    for name, script, extra, w in [("loop (today)", LOOP, [], 1)] + [
            (f"batch --workers {w}", BATCH, [w], int(w)) for w in args.workers.split(",")]:
        out = root / f"{name.split()[0]}_{w}.jsonl"
        for stale in root.glob(f"{out.stem}*"):
            stale.unlink()
        r = run_mode(script, out, [str(e) for e in extra], clips, args.modalities)
        results[name] = (r, *rates(args.clips, w, r))
        print(f"  ran {name}: {r['wall']:.1f} s (load average {os.getloadavg()[0]:.2f})", flush=True)
    base = results["loop (today)"]
    print(f"\n{args.clips} clips of 5 s; clips/min (x the loop)")
    print(f"{'mode':<20}{'wall s':>8}{'CPU s':>8}{'incl. loading':>20}{'excl. loading':>20}"
          f"{'labels = loop':>15}")
    for name, (r, incl, excl) in results.items():
        same = sum(r["labels"].get(k) == v for k, v in base[0]["labels"].items())
        print(f"{name:<20}{r['wall']:>8.1f}{r['cpu']:>8.1f}{incl:>11.1f} ({incl / base[1]:.2f}x)"
              f"{excl:>12.1f} ({excl / base[2]:.2f}x){same:>9}/{len(base[0]['labels'])}")
    print("CPU s: user + system seconds of the mode's process and its worker processes; on a machine that "
          "others load, two processes get a larger share of the CPUs than one, which favours --workers 2")
    print(f"load average at the end {os.getloadavg()[0]:.2f} (on {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
