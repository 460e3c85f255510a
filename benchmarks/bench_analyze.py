"""Speed, start-up and memory of the whole `analyze` chain, before and after, in one run.

"before" is the code at a git ref (``--before``, default the commit issue 21's speed work started from),
exported into a temporary folder (``code_at.py``); "after" is this tree. For each clip duration and each
side a fresh subprocess (PYTHONPATH pointing at that side's ``src``) analyses a 720p test clip made on the
spot (scikit-image's astronaut photo moving slowly on a 1280x720 canvas, espeak-ng speech repeated over it):

* **start-up**: process start -> first result on the 10-s clip, minus that clip's processing time in
  the same (then warm) process: the one-off cost of imports and model loading;
* per stage, the seconds and the real-time factor (seconds / media duration) of a warm run; the
  **whole chain** (wall clock) and the process' CPU seconds (all threads) over that run;
* the process' **peak RSS**.

Then the dev-set agreement: a fixed sample of RAVDESS clips through the voice stage and of
facial_expressions photos through the face stage, on both sides; labels before == after, and the
largest score difference. Needs the shared data (``--data``, default ``../shared/data``).

    .venv/bin/python benchmarks/bench_analyze.py                      # 10, 30 and 600 s
    .venv/bin/python benchmarks/bench_analyze.py --durations 10 30 --before HEAD~3
    .venv/bin/python benchmarks/bench_analyze.py --after-face-model pool  # + the old face pool
    .venv/bin/python benchmarks/bench_analyze.py --after-env OPENBLAS_NUM_THREADS=1  # + a setting's column
Targets (issue 21): whole chain <= 0.15x real time on 2 cores, start-up <= 4 s, peak RSS <= 1.5 GB,
flat with duration; no label change on the dev samples.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from code_at import REPO, code_at
from skimage import data

from emoreason.io.demo_clip import DEMO_SENTENCE, speak
from emoreason.io.synth import write_media

#: The commit issue 21's speed work started from.
BASE_REF = "bf9b36c1bd1ce1318e472f01c1b985b69ba90b95"

CHILD = """
import json, resource, sys, time
spawned, clip, first_clip, fps = float(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
face = {"face_model": sys.argv[5]} if len(sys.argv) > 5 else {}
from emoreason.api import analyze
analyze(first_clip, fps=fps, **face)
first_at = time.time() - spawned
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
def timed(path):
    c0, t0 = cpu(), time.perf_counter()
    r = analyze(path, fps=fps, **face)
    return r, time.perf_counter() - t0, cpu() - c0
warm, warm_wall, warm_cpu = timed(first_clip)
r, wall, cpu_s = (warm, warm_wall, warm_cpu) if clip == first_clip else timed(clip)
print(json.dumps({"duration": r.duration, "timings": r.provenance["timings"], "label": r.label,
                  "scores": r.scores, "startup_s": first_at - warm_wall, "first_result_s": first_at,
                  "wall_s": wall, "cpu_s": cpu_s,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

DEV_CHILD = """
import json, sys
from emoreason.api import analyze
from emoreason.errors import EmoreasonError
items = json.loads(sys.argv[1])
out = []
for path, modality in items:
    try:
        r = analyze(path, modalities=[modality])
        out.append({"path": path, "label": r.label, "scores": r.scores})
    except EmoreasonError as exc:  # no face, no speech: the item's answer is that message
        out.append({"path": path, "label": f"({exc.__class__.__name__})", "scores": {}})
print(json.dumps(out))
"""


def make_clip(path: Path, seconds: float, fps: int = 25, text: str = DEMO_SENTENCE,
              voice: str = "en-us") -> Path:
    speech = speak(text, voice=voice)
    unit = np.concatenate([speech, np.zeros(8000, np.float32)])
    n_audio = int(seconds * 16000)
    audio = np.tile(unit, n_audio // len(unit) + 1)[:n_audio]
    photo = data.astronaut()
    canvas = np.full((720, 1280, 3), 40, np.uint8)

    def frames():
        for i in range(int(seconds * fps)):
            x = 300 + int(150 * np.sin(i / 50))
            frame = canvas.copy()
            frame[100:612, x:x + 512] = photo
            yield frame

    return write_media(path, frames(), fps=fps, audio=audio)


def dev_items(root: Path, n_voice: int, n_face: int) -> list[tuple[str, str]]:
    """Every k-th RAVDESS clip (voice) and facial_expressions photo (face), in the CSVs' order."""
    items: list[tuple[str, str]] = []
    for folder, modality, n in (("ravdess_speech", "voice", n_voice), ("facial_expressions", "face", n_face)):
        rows = list(csv.DictReader(open(root / folder / "labels.csv", encoding="utf-8")))
        step = max(1, len(rows) // max(n, 1))
        items += [(str(root / folder / row["path"]), modality) for row in rows[::step][:n]]
    return items


def run_child(src: Path, code: str, args: list[str], env_extra: dict[str, str] | None = None) -> dict | list:
    env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1", **(env_extra or {}))
    spawned = time.time()
    out = subprocess.run([sys.executable, "-c", code, *([str(spawned)] if code is CHILD else []), *args],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child on {src} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_clip(seconds: float, rows: dict[str, dict]) -> None:
    names = list(rows)
    print(f"\n== {seconds:g} s of 720p video; label " + ", ".join(f"{n} {rows[n]['label']}" for n in names))
    print(f"{'':<22} " + " ".join(f"{n:>16}" for n in names))
    stages = list(dict.fromkeys(k for n in names for k in rows[n]["timings"]))
    for stage in stages:
        if stage == "total":
            continue
        cells = [f"{rows[n]['timings'][stage] / rows[n]['duration']:16.3f}" if stage in rows[n]["timings"]
                 else f"{'-':>16}" for n in names]
        print(f"{stage + ' (x real time)':<22} " + " ".join(cells))
    for name, get in (("WHOLE CHAIN (x rt)", lambda r: r["wall_s"] / r["duration"]),
                      ("CPU s / media s", lambda r: r["cpu_s"] / r["duration"]),
                      ("start-up (s)", lambda r: r["startup_s"]),
                      ("first result (s)", lambda r: r["first_result_s"]),
                      ("peak RSS (MB)", lambda r: r["rss_mb"])):
        print(f"{name:<22} " + " ".join(f"{get(rows[n]):16.3f}" for n in names))
    diff = max(abs(rows["before"]["scores"][k] - rows["after"]["scores"][k]) for k in rows["after"]["scores"])
    print(f"largest score difference before/after on this clip: {diff:.2e}")


def dev_check(sides: dict[str, Path], root: Path, n_voice: int, n_face: int) -> None:
    items = dev_items(root, n_voice, n_face)
    res = {s: run_child(src, DEV_CHILD, [json.dumps(items)]) for s, src in sides.items()}
    for modality in ("voice", "face"):
        pairs = [(b, a) for b, a, (_, m) in zip(res["before"], res["after"], items) if m == modality]
        same = sum(b["label"] == a["label"] for b, a in pairs)
        diff = max((abs(b["scores"][k] - a["scores"][k]) for b, a in pairs for k in a["scores"]
                    if k in b["scores"]), default=0.0)
        print(f"dev sample, {modality}: {same}/{len(pairs)} labels equal before/after; "
              f"largest score difference {diff:.2e}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--durations", type=float, nargs="+", default=[10.0, 30.0, 600.0])
    ap.add_argument("--fps", type=float, default=5.0)
    ap.add_argument("--before", default=BASE_REF, help="git ref of the 'before' code")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--dev-voice", type=int, default=24, help="RAVDESS clips in the dev check (0: none)")
    ap.add_argument("--dev-face", type=int, default=40, help="facial_expressions photos in the dev check")
    ap.add_argument("--keep", type=Path, help="keep the generated clips in this folder")
    ap.add_argument("--after-face-model", action="append", default=[], metavar="NAME",
                    help="also run this tree with this face model (e.g. 'pool', the default before the FER+ "
                         "network): its own column, to see what the face model alone costs the chain")
    ap.add_argument("--after-env", action="append", default=[], metavar="NAME=VALUE",
                    help="also run this tree with this environment variable set (e.g. "
                         "OPENBLAS_NUM_THREADS=1): its own column")
    args = ap.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="emoreason-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    with code_at(args.before) as before_src:
        sides = {"before": before_src, "after": REPO / "src"}
        now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(f"before = {args.before}; after = this tree ({REPO}); {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f} at {now}")
        clips = {}
        for seconds in sorted({10.0, *args.durations}):
            clips[seconds] = folder / f"clip_{int(seconds)}s.mp4"
            if not clips[seconds].exists():
                make_clip(clips[seconds], seconds)
        rss = {}
        for seconds in args.durations:
            clip_args = [str(clips[seconds]), str(clips[10.0]), str(args.fps)]
            rows = {s: run_child(src, CHILD, clip_args) for s, src in sides.items()}
            for name in args.after_face_model:
                rows[f"after[{name}]"] = run_child(sides["after"], CHILD, [*clip_args, name])
            for setting in args.after_env:
                key, _, value = setting.partition("=")
                rows[f"after[{setting}]"] = run_child(sides["after"], CHILD, clip_args, {key: value})
            print_clip(seconds, rows)
            rss[seconds] = (rows["before"]["rss_mb"], rows["after"]["rss_mb"])
        print("\npeak RSS by duration (before -> after): "
              + ", ".join(f"{d:g} s: {b:.0f} -> {a:.0f} MB" for d, (b, a) in rss.items()))
        if args.dev_voice or args.dev_face:
            dev_check(sides, args.data, args.dev_voice, args.dev_face)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
