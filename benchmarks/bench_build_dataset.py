"""Clips per minute of ``emoreason build-dataset`` on 5-s clips, per stage and overall (no LLM stage).

Makes N synthetic 5-s clips (scikit-image's astronaut photo, slowly zoomed, 640x480 at 25 fps, with
espeak-ng speech; a tone when espeak-ng is missing), builds the dataset with the default perception
and offline reasoning, and prints:

- per stage: mean seconds per clip in one worker, and the clips/min one worker sustains on it;
- overall: clips/min of the whole build (wall clock with ``--workers`` processes, worker start-up and
  model loading included), and the steady state once models are loaded: workers x 60 / (median
  seconds per clip summed over the top-level stages; the median leaves out each worker's first clip,
  which pays for loading the models).

    python benchmarks/bench_build_dataset.py --clips 12 --workers 2

The target in issue 5 is >= 60 clips/min on 2 cores without the LLM stage.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from skimage import data

from emoreason.dataset_builder.builder import DEFAULT_PERCEIVER, BuildOptions
from emoreason.dataset_builder.runner import build_dataset
from emoreason.io.demo_clip import speak
from emoreason.io.synth import tone, write_media

SENTENCES = (
    "I can't believe we actually won the whole thing.",
    "Please leave me alone, I have had a terrible day.",
    "Why would you say something like that to me?",
    "Well, I suppose that is one way to look at it.",
    "Oh no, did you hear that noise outside?",
    "This is the best news I have heard all year.",
)


def make_clips(folder: Path, n: int, seconds: float = 5.0, fps: int = 25) -> list[Path]:
    try:
        speak("test")
        voice = True
    except Exception:  # noqa: BLE001 - espeak-ng missing: a tone instead, and say so
        voice = False
        print("espeak-ng not available: clips carry a tone instead of speech", file=sys.stderr)
    photo = data.astronaut()
    paths = []
    for i in range(n):
        sr = 16000
        audio = np.zeros(int(seconds * sr), dtype=np.float32)
        speech = speak(SENTENCES[i % len(SENTENCES)]) if voice else tone(3.0, 180.0 + 10 * i)
        speech = speech[: len(audio) - sr // 2]
        audio[sr // 4: sr // 4 + len(speech)] = speech
        frames = []
        for k in range(int(seconds * fps)):
            size = int(512 / (1.0 + 0.1 * k / (seconds * fps))) // 2 * 2
            off = (512 - size) // 2
            crop = photo[off:off + size, off:off + size]
            rows, cols = np.linspace(0, size - 1, 480).astype(int), np.linspace(0, size - 1, 640).astype(int)
            frames.append(crop[rows][:, cols])
        paths.append(write_media(folder / f"clip_{i:03d}.mp4", frames, fps=fps, audio=audio))
    return paths


def run(clips: Path, out: Path, workers: int, perceiver: str | None, modalities: str) -> tuple[float, dict]:
    options = BuildOptions(perceiver=perceiver or DEFAULT_PERCEIVER, modalities=modalities)
    t0 = time.perf_counter()
    summary = build_dataset(clips, out, options, workers=workers, progress=False)
    wall = time.perf_counter() - t0
    timings = json.loads((out / "timings.json").read_text())
    timings["summary"] = {"done": summary.done, "failed": summary.failed}
    return wall, timings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--perceiver", help="module:function (default: emoreason's own perception)")
    ap.add_argument("--modalities", default="face,voice,text", help="perception modalities (default all)")
    ap.add_argument("--keep", type=Path, help="keep the clips and outputs in this folder")
    args = ap.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-build-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        clips = root / "clips"
        clips.mkdir(exist_ok=True)
        if len(list(clips.glob("*.mp4"))) != args.clips:  # --keep: reuse the clips of an earlier run
            t0 = time.perf_counter()
            make_clips(clips, args.clips)
            print(f"made {args.clips} clips of 5 s in {time.perf_counter() - t0:.1f} s")
        if (root / "out").exists():
            shutil.rmtree(root / "out")
        wall, timings = run(clips, root / "out", args.workers, args.perceiver, args.modalities)
        print(f"\nbuilt {timings['summary']['done']} clips ({timings['summary']['failed']} failed), "
              f"{args.workers} worker process(es), modalities {args.modalities}")
        print(f"{'stage':<22}{'mean s/clip':>12}{'median s/clip':>15}{'clips/min (1 worker, mean)':>30}")
        for stage, t in sorted(timings["stages"].items(), key=lambda kv: -kv[1]["mean_s"]):
            rate = f"{t['clips_per_min_one_process']:.1f}" if t["mean_s"] >= 0.001 else "> 60000"
            print(f"{stage:<22}{t['mean_s']:>12.3f}{t['median_s']:>15.3f}{rate:>30}")
        if not timings["summary"]["done"]:
            print(f"nothing was built: see {root / 'out' / 'failed.jsonl'}", file=sys.stderr)
            return 1
        per_clip = sum(t["median_s"] for k, t in timings["stages"].items() if "." not in k)
        print(f"\noverall, wall clock (start-up and model loading included): {60 * args.clips / wall:.1f} "
              f"clips/min ({wall:.1f} s for {args.clips} clips)")
        print(f"steady state (models loaded), {args.workers} worker(s) x 60 / {per_clip:.3f} s per clip "
              f"(median): {args.workers * 60 / per_clip:.1f} clips/min")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak resident memory: this process {own:.0f} MiB, largest worker process {kids:.0f} MiB")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
