"""The face stage per analysed frame, before and after, in one run; and what the change does to results.

"before" is the code at a git ref (``--before``, exported by ``code_at.py``), "after" this tree; each side
runs in its own subprocess (``face_stage_child.py``) with its own ``src`` on PYTHONPATH:

1. **Speed** on the benchmark clip (``bench_analyze.make_clip``: 30 s of 720p, one moving face, small: the
   mesh's own detector misses it, the full-range detector finds it) and on ``pan_happiness`` (below: a
   large face), decoded as the pipeline does (5 fps, long side 960) and fed to ``FaceAnalyzer``: the
   process' CPU and wall ms per analysed frame (``--repeats`` children per side, sides alternated so that
   the machine's load hits both), then one pass with every part timed (mesh and its pieces, crops, fer,
   the FER+ network, facex, AUs, head pose + gaze).
2. **Photos** (one frame each: ``analyze_face_image``): every k-th of ``facial_expressions`` and the first
   FER+ valid images: labels and scores must be identical.
3. **Clips**: the benchmark clip and clips made here from facial_expressions photos (one photo panned and
   zoomed; two photos of one person with different labelled expressions alternating every analysed frame or
   every 2nd; one cross-faded into the other; each at two sizes: a face the mesh's own detector sees, and a
   small one that the face stage follows), through before, after with following off (must equal before)
   and after as shipped: the clip's label, the largest difference of its pooled scores, of any frame's
   probabilities and AU intensities, and how many frames were searched whole.

    nice .venv/bin/python benchmarks/bench_face_stage.py --data ../shared/data --clips /tmp/face-clips
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

import cv2
import numpy as np
from bench_analyze import make_clip
from code_at import REPO, code_at

from emoreason.io.media import load_still
from emoreason.io.synth import write_media

CHILD = Path(__file__).with_name("face_stage_child.py")
#: Two photos (350 px squares) of one person with different labels in facial_expressions.
PAIRS = (("George_W_Bush", "neutral", "surprise"), ("Colin_Powell", "neutral", "happiness"),
         ("Tony_Blair", "happiness", "surprise"))
PAN_LABELS = ("anger", "happiness", "surprise", "sadness")


def run_child(src: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, str(CHILD), *args], capture_output=True, text=True, env=env,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"child on {src} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def photo_rows(data: Path) -> list[dict]:
    return list(csv.DictReader(open(data / "facial_expressions" / "labels.csv", encoding="utf-8")))


def placed(photo: np.ndarray, x: int, side: int) -> np.ndarray:
    """``photo`` resized to ``side`` px on a 1280x720 grey canvas at column ``x`` (clipped to the frame)."""
    canvas = np.full((720, 1280, 3), 40, np.uint8)
    img = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA if side < photo.shape[0]
                     else cv2.INTER_CUBIC)
    x = int(np.clip(x, 0, 1280 - side))
    y = (720 - side) // 2
    canvas[y:y + side, x:x + side] = img
    return canvas


def pan(i: int) -> int:
    """The column of a photo at frame ``i`` of the alternating and cross-faded clips (make_clip's motion)."""
    return 300 + int(150 * np.sin(i / 50))


def make_face_clips(data: Path, folder: Path, seconds: float = 8.0, fps: int = 25) -> dict[str, Path]:
    """The real-face clips (made once into ``folder``): pan_* (one photo panned and zoomed), alt1_* (two
    photos switched every analysed frame), alt2_* (every 2nd), fade_* (one cross-faded into the other);
    each with the photo 450 px wide on the 1280x720 frame (a face the mesh's own detector finds) and,
    ``_small``, 180 px wide (a face only the full-range detector finds: the face stage follows it)."""
    rows = photo_rows(data)
    root = data / "facial_expressions"
    first = {}
    for row in rows:
        person = Path(row["path"]).stem.rsplit("_", 1)[0]
        first.setdefault((person, row["emotion"]), root / row["path"])
        first.setdefault(("*", row["emotion"]), root / row["path"])
    n = int(seconds * fps)
    specs: dict[str, object] = {}
    for size, tag in ((450, ""), (300, "_mid"), (240, "_240"), (180, "_small")):
        for label in PAN_LABELS:
            photo = load_still(first[("*", label)])
            specs[f"pan_{label}{tag}"] = lambda i, p=photo, s=size: placed(
                p, 300 + int(200 * np.sin(i / 40)), int(s * (1 + 0.13 * np.sin(i / 60))))
        for person, a, b in PAIRS:
            pa, pb = load_still(first[(person, a)]), load_still(first[(person, b)])
            specs[f"alt1_{person}{tag}"] = lambda i, pa=pa, pb=pb, s=size: placed(
                pb if (i // 5) % 2 else pa, pan(i), s)
            specs[f"alt2_{person}{tag}"] = lambda i, pa=pa, pb=pb, s=size: placed(
                pb if (i // 10) % 2 else pa, pan(i), s)
            specs[f"fade_{person}{tag}"] = lambda i, pa=pa, pb=pb, s=size: placed(
                np.round(pa * (1 - i / (n - 1)) + pb * (i / (n - 1))).astype(np.uint8), pan(i), s)
    paths = {}
    for name, frame_at in specs.items():
        paths[name] = folder / f"{name}.mp4"
        if not paths[name].exists():
            write_media(paths[name], (frame_at(i) for i in range(n)), fps=fps)
    return paths


def print_speed(what: str, runs: dict[str, list[dict]]) -> None:
    n = runs["before"][0]["frames"]
    print(f"\n== speed: {what}, {n} analysed frames; ms per analysed frame "
          f"(process CPU = user + sys of all threads; wall)")
    for side, rs in runs.items():
        passes = [p for r in rs for p in r["totals"]]
        cpu, wall = [p["cpu_ms"] for p in passes], [p["wall_ms"] for p in passes]
        print(f"{side:<7} CPU {np.mean(cpu):6.2f} ms (passes: {', '.join(f'{c:.2f}' for c in cpu)}); "
              f"wall {np.mean(wall):6.2f} ms; details {rs[0]['details']}; load {[r['load'] for r in rs]}")
    b = np.mean([p["cpu_ms"] for r in runs["before"] for p in r["totals"]])
    a = np.mean([p["cpu_ms"] for r in runs["after"] for p in r["totals"]])
    print(f"CPU per frame after / before: {a / b:.3f} ({(1 - a / b) * 100:.1f} % less)")
    parts = {s: rs[-1]["parts"] for s, rs in runs.items()}
    names = list(dict.fromkeys([*parts["before"], *parts["after"]]))
    print(f"\n{'part (one timed pass per side)':<30} {'calls b/a':>11} {'CPU before':>11} {'CPU after':>10} "
          f"{'wall before':>12} {'wall after':>11}")
    for name in names:
        cells = [parts[s].get(name, {"calls": 0, "cpu_ms": 0.0, "wall_ms": 0.0}) for s in ("before", "after")]
        print(f"{name:<30} {cells[0]['calls']:>5}/{cells[1]['calls']:<5} {cells[0]['cpu_ms']:>11.2f} "
              f"{cells[1]['cpu_ms']:>10.2f} {cells[0]['wall_ms']:>12.2f} {cells[1]['wall_ms']:>11.2f}")
    for s, rs in runs.items():
        print(f"{s}: timed pass total CPU {rs[-1]['timed_total']['cpu_ms']:.2f} ms, wall "
              f"{rs[-1]['timed_total']['wall_ms']:.2f} ms per frame")


def compare_photos(sides: dict[str, Path], paths: list[str], what: str, tmp: Path) -> None:
    spec = tmp / f"photos_{what}.json"
    spec.write_text(json.dumps(paths), encoding="utf-8")
    res = {s: run_child(src, "photos", str(spec))["out"] for s, src in sides.items()}
    pairs = list(zip(res["before"], res["after"], strict=True))
    same_label = sum(b["label"] == a["label"] for b, a in pairs)
    identical = sum(b == a for b, a in pairs)
    diff = max((abs(b["scores"][k] - a["scores"][k]) for b, a in pairs for k in a["scores"]
                if k in b["scores"]), default=0.0)
    usable = sum(a["usable"] for _, a in pairs)
    print(f"photos, {what}: {len(pairs)} ({usable} with a face): labels equal {same_label}/{len(pairs)}, "
          f"outputs identical {identical}/{len(pairs)}, largest score difference {diff:.2e}")


def compare_clips(sides: dict[str, Path], clips: dict[str, Path], tmp: Path) -> None:
    spec = tmp / "clips.json"
    paths = [str(p) for p in clips.values()]
    spec.write_text(json.dumps({"clips": paths, "runs": {"x": {}, "shift": {"shift": 1}}}), encoding="utf-8")
    before = run_child(sides["before"], "clips", str(spec))["out"]
    runs_after = {"off": {"follow": False}, "on": {}}
    spec.write_text(json.dumps({"clips": paths, "runs": runs_after}), encoding="utf-8")
    after = run_child(sides["after"], "clips", str(spec))["out"]
    print("\nclips: 'after, no following' must equal 'before' exactly; 'after' (as shipped) is compared with"
          " 'before': the largest difference of the pooled scores, and on the frames where both found the"
          " face, of any frame's probabilities and AU intensities (neutral-face SDs); frames with a face"
          " before -> after; searches = frames where the whole frame was searched (after)")
    print("the noise baseline: 'before' on the same clip moved 1 px to the right (its label; its pooled and "
          "frame differences from 'before')")
    print(f"{'clip':<26} {'px':>5} {'label before':>12} {'off==before':>11} {'label after':>11} "
          f"{'pooled':>7} {'frame p':>7} {'AU':>5} {'face frames':>11} {'searches':>8} | {'1px label':>9} "
          f"{'pooled':>7} {'frame p':>7}")
    worst = {"pooled": 0.0, "frame": 0.0, "au": 0.0, "labels": 0, "shift_labels": 0}
    for name, path in clips.items():
        b, moved = before[str(path)]["x"], before[str(path)]["shift"]
        off, on = after[str(path)]["off"], after[str(path)]["on"]
        same_off = all(off[k] == b[k] for k in ("scores", "per_frame", "aus", "times"))
        pooled, frame, au = differences(b, on)
        s_pooled, s_frame, _ = differences(b, moved)
        for key, value in (("pooled", pooled), ("frame", frame), ("au", au)):
            worst[key] = max(worst[key], value)
        worst["labels"] += on["label"] != b["label"]
        worst["shift_labels"] += moved["label"] != b["label"]
        print(f"{name:<26} {b['face_px']!s:>5} {str(b['label']):>12} {str(same_off):>11} "
              f"{str(on['label']):>11} {pooled:>7.4f} {frame:>7.4f} {au:>5.2f} "
              f"{b['frames']!s:>5}->{on['frames']!s:<5} {on['searches']!s:>8} | "
              f"{str(moved['label']):>9} {s_pooled:>7.4f} {s_frame:>7.4f}")
    print(f"over {len(clips)} clips: labels changed by following {worst['labels']}, by a 1-px move "
          f"{worst['shift_labels']}; largest differences from following: pooled {worst['pooled']:.4f}, "
          f"frame {worst['frame']:.4f}, AU {worst['au']:.2f}")


def differences(a: dict, b: dict) -> tuple[float, float, float]:
    """The largest differences of two runs' pooled scores, and on the frames both found a face in, of the
    frames' probabilities and AU intensities."""
    pooled = max((abs(a["scores"][k] - b["scores"][k]) for k in b["scores"] if k in a["scores"]), default=0.0)
    both = sorted(set(a["times"]) & set(b["times"]))
    if not both:
        return pooled, 0.0, 0.0
    ra, rb = [a["times"].index(t) for t in both], [b["times"].index(t) for t in both]
    frame = float(np.abs(np.array(a["per_frame"])[ra] - np.array(b["per_frame"])[rb]).max())
    au = float(np.abs(np.array(a["aus"])[ra] - np.array(b["aus"])[rb]).max())
    return pooled, frame, au


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="adda2e2", help="git ref of the 'before' code")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--clips", type=Path, help="folder for the generated clips (kept; default: temporary)")
    ap.add_argument("--repeats", type=int, default=2, help="speed rounds (each: one child per side)")
    ap.add_argument("--photos", type=int, default=120, help="facial_expressions photos (every k-th)")
    ap.add_argument("--ferplus", type=int, default=100, help="FER+ valid images (the first n)")
    ap.add_argument("--parts", default="speed,photos,clips", help="which of speed,photos,clips to run")
    args = ap.parse_args(argv)
    todo = set(args.parts.split(","))
    folder = args.clips or Path(tempfile.mkdtemp(prefix="emoreason-face-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    bench = folder / "bench_30s.mp4"
    if not bench.exists():
        make_clip(bench, 30.0)
    with code_at(args.before) as before_src, tempfile.TemporaryDirectory() as tmp:
        sides = {"before": before_src, "after": REPO / "src"}
        print(f"before = {args.before}; after = this tree ({REPO}); {os.cpu_count()} CPUs; load average "
              f"{os.getloadavg()[0]:.2f} at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
        clips = {"benchmark (astronaut)": bench, **make_face_clips(args.data, folder)}
        if "speed" in todo:
            for what, clip in (("the benchmark clip (a small face: followed)", bench),
                               ("pan_happiness (a large face: mediapipe's own tracking, as before)",
                                clips["pan_happiness"])):
                runs: dict[str, list[dict]] = {"before": [], "after": []}
                for _ in range(args.repeats):
                    for side, src in sides.items():
                        r = run_child(src, "speed", str(clip), "1")
                        runs[side].append({**r["out"], "load": [round(v, 2) for v in r["load"]]})
                print_speed(what, runs)
        if "photos" in todo:
            rows = photo_rows(args.data)
            step = max(1, len(rows) // args.photos)
            fe = [str(args.data / "facial_expressions" / r["path"]) for r in rows[::step][:args.photos]]
            valid = sorted((args.data / "ferplus" / "valid").glob("*.png"))[:args.ferplus]
            print()
            compare_photos(sides, fe, "facial_expressions", Path(tmp))
            compare_photos(sides, [str(p) for p in valid], "FER+ valid", Path(tmp))
        if "clips" in todo:
            compare_clips(sides, clips, Path(tmp))
        print(f"load average {os.getloadavg()[0]:.2f} at the end "
              f"({time.strftime('%H:%M:%S UTC', time.gmtime())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
