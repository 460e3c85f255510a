"""Real-time factor and peak memory of the whole `analyze` chain and of each stage.

Makes a 720p test clip on the spot (scikit-image's astronaut photo placed on a 1280x720 canvas, moving
slowly, with espeak-ng speech repeated over it), analyses it in a fresh subprocess per duration, and
prints per stage the seconds spent and the real-time factor (processing time / media duration; the
baseline is the media's own duration, measured in the same run), plus the subprocess' peak RSS.

    .venv/bin/python benchmarks/bench_analyze.py        # 30 s clip, then 10 s and 600 s for memory
    .venv/bin/python benchmarks/bench_analyze.py --durations 30 --fps 5
Targets (issue 2): whole chain ≤ 0.3x real time at 5 fps on 2 cores; peak RSS ≤ 2 GB, flat with duration.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from skimage import data

from emoreason.io.demo_clip import DEMO_SENTENCE, speak
from emoreason.io.synth import write_media

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import emoreason
from emoreason.api import analyze
t_import = time.perf_counter() - t0
# warm the models once on a short clip so the timing is per-clip work, not one-off loading
t0 = time.perf_counter()
analyze(sys.argv[2], fps=float(sys.argv[3]))
t_warm = time.perf_counter() - t0
r = analyze(sys.argv[1], fps=float(sys.argv[3]))
print(json.dumps({"duration": r.duration, "timings": r.provenance["timings"], "label": r.label,
                  "import_s": t_import, "first_call_s": t_warm,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_clip(path: Path, seconds: float, fps: int = 25) -> Path:
    speech = speak(DEMO_SENTENCE)
    gap = np.zeros(8000, np.float32)
    unit = np.concatenate([speech, gap])
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--durations", type=float, nargs="+", default=[30.0, 10.0, 600.0])
    ap.add_argument("--fps", type=float, default=5.0)
    ap.add_argument("--keep", type=Path, help="keep the generated clips in this folder")
    args = ap.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="emoreason-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    warm = folder / "warm.mp4"
    if not warm.exists():
        make_clip(warm, 3.0)
    rows = []
    for seconds in args.durations:
        clip = folder / f"clip_{int(seconds)}s.mp4"
        if not clip.exists():
            t0 = time.perf_counter()
            make_clip(clip, seconds)
            print(f"made {clip.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        out = subprocess.run([sys.executable, "-c", CHILD, str(clip), str(warm), str(args.fps)],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            return 1
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        dur = row["duration"]
        print(f"\n== {seconds:.0f} s of 720p video at {args.fps:g} fps analysed (label {row['label']}); "
              f"peak RSS {row['rss_mb']:.0f} MB; import {row['import_s']:.1f} s, "
              f"first call {row['first_call_s']:.1f} s")
        print(f"{'stage':<8} {'seconds':>8} {'x real time':>12}")
        for stage, sec in row["timings"].items():
            print(f"{stage:<8} {sec:8.2f} {sec / dur:12.3f}")
    _ = resource  # (peak RSS is read inside each child)
    if len(rows) > 1:
        by_duration = ", ".join(f"{r['duration']:.0f} s → {r['rss_mb']:.0f} MB" for r in rows)
        print("\npeak RSS by duration: " + by_duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
