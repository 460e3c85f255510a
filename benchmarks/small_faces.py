"""Small and pre-cropped faces: how many images the face stage refuses, and how steady its cues stay as a face
shrinks.

``refusals``: each image goes through ``emoreason.analyze(image, modalities=["face"])`` as a user would call
it, once with this checkout's code and once with another checkout's ``src`` (``--before-src``, e.g. the
main branch), each in its own process. Two sets (seeded samples of shared data):

* ``ferplus``: ``--n-ferplus`` FER+ valid images (48x48 grey, already cropped); truth: the majority vote;
* ``thumbs``: ``--n-thumbs`` ``facial_expressions`` photos shrunk to 64x64 (OpenCV INTER_AREA).

Per set and code: images refused (an ``EmoreasonError``), 7-class accuracy and UAR with refusals counted as
misses, accuracy on the images answered, and the refusal messages seen. Images whose truth has no canonical
label (contempt, unknown, not a face) are left out of the accuracies, not of the refusals.

``stability`` (this checkout only): ``--n-stability`` ``facial_expressions`` photos, each shrunk so its face
is S px (S in ``--sizes``); per size the mean absolute change against the full-size photo of the Action
Unit measures (in neutral-face SDs, ``au_baseline.json``'s scales), of head yaw/pitch/roll and of the eye
yaw (degrees), over the photos where a face is found at every size.

    .venv/bin/python benchmarks/small_faces.py --data ../shared/data --before-src ../main/src [--parts ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

FERPLUS_TO_CANONICAL = {"neutral": "neutral", "happiness": "happy", "surprise": "surprised",
                        "sadness": "sad", "anger": "angry", "disgust": "disgusted", "fear": "fearful"}


def sample_sets(data: Path, n_ferplus: int, n_thumbs: int,
                seed: int) -> dict[str, list[tuple[str, str | None]]]:
    """``{"ferplus": [(path, canonical truth or None)], "thumbs": [...]}``, seeded."""
    from emoreason.labels import FACIAL_EXPRESSIONS

    rng = np.random.RandomState(seed)
    with (data / "ferplus" / "valid_labels.csv").open(newline="", encoding="utf-8") as f:
        fer = list(csv.DictReader(f))
    fer = [fer[i] for i in np.sort(rng.permutation(len(fer))[:n_ferplus])]
    with (data / "facial_expressions" / "labels.csv").open(newline="", encoding="utf-8") as f:
        fe = list(csv.DictReader(f))
    fe = [fe[i] for i in np.sort(rng.permutation(len(fe))[:n_thumbs])]
    return {"ferplus": [(str(data / "ferplus" / r["path"]), FERPLUS_TO_CANONICAL.get(r["majority"]))
                        for r in fer],
            "thumbs": [(str(data / "facial_expressions" / r["path"]),
                        FACIAL_EXPRESSIONS.canonical(r["emotion"]))
                       for r in fe]}


def load(path: str, set_name: str) -> np.ndarray:
    from emoreason.io.image import load_image

    rgb = load_image(path)
    return cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA) if set_name == "thumbs" else rgb


def run_child(sets_json: str) -> None:
    """Analyse every image of the sets (the JSON file ``sets_json``) with whatever emoreason is importable;
    print one JSON line per image."""
    import emoreason
    from emoreason.errors import EmoreasonError

    sets = json.loads(Path(sets_json).read_text(encoding="utf-8"))
    for name, items in sets.items():
        for path, _ in items:
            try:
                r = emoreason.analyze(load(path, name), modalities=["face"])
                out = {"label": r.label, "error": None}
            except EmoreasonError as exc:
                out = {"label": None, "error": str(exc)}
            print(json.dumps({"set": name, "path": path, **out}), flush=True)


def refusals(args: argparse.Namespace) -> None:
    from emoreason.labels import CANONICAL

    sets = sample_sets(args.data, args.n_ferplus, args.n_thumbs, args.seed)
    here = Path(__file__).resolve().parents[1] / "src"
    for tag, src in (("before", args.before_src), ("after", here)):
        env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()), HF_HUB_OFFLINE="1")
        with tempfile.TemporaryDirectory() as tmp:
            listing = Path(tmp) / "sets.json"
            listing.write_text(json.dumps(sets), encoding="utf-8")
            proc = subprocess.run([sys.executable, __file__, "--child", str(listing)], env=env, check=True,
                                  capture_output=True, text=True)
        rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        for name, items in sets.items():
            got = {r["path"]: r for r in rows if r["set"] == name}
            refused = [got[p] for p, _ in items if got[p]["error"] is not None]
            scored = [(CANONICAL.index(t), got[p]["label"]) for p, t in items if t is not None]
            hits = np.array([lab is not None and CANONICAL[t] == lab for t, lab in scored])
            truth = np.array([t for t, _ in scored])
            uar = np.mean([hits[truth == c].mean() for c in np.unique(truth)])
            answered = np.array([lab is not None for _, lab in scored])
            msgs = sorted({r["error"][:120] for r in refused})
            print(f"{tag:6s} {name:8s} images {len(items):4d}  refused {len(refused):4d}  "
                  f"acc {hits.mean():.3f} uar {uar:.3f} (n={len(scored)}, refusals = misses; "
                  f"acc on the {answered.sum()} answered {hits[answered].mean():.3f})  {msgs[:2]}")


def stability(args: argparse.Namespace) -> None:
    from emoreason.io.image import load_image
    from emoreason.perception.face import action_units as au
    from emoreason.perception.face.expression import DEFAULT_FACE_MODEL_DIR
    from emoreason.perception.face.gaze import eye_angles
    from emoreason.perception.face.head_pose import head_pose
    from emoreason.perception.face.mesh import FaceMeshTracker
    from emoreason.perception.face.small_faces import is_small_image, upscaled_face

    base = au.AUBaseline.load(DEFAULT_FACE_MODEL_DIR / "au_baseline.json")
    scale = np.array([base.scale[a] for a in au.AU_NAMES])
    rng = np.random.RandomState(args.seed + 1)
    with (args.data / "facial_expressions" / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = [rows[i] for i in rng.permutation(len(rows))[: args.n_stability]]
    sizes = [int(s) for s in args.sizes.split(",")]
    diffs: dict[int, list[np.ndarray]] = {s: [] for s in sizes}
    kept, full_px = 0, []
    with FaceMeshTracker(static=True) as tracker:
        def measure(rgb):
            face, _ = tracker.main_face(rgb)
            if (face is None or face.size < 24) and is_small_image(rgb):
                face = upscaled_face(tracker, rgb)
            if face is None:
                return None
            h, w = rgb.shape[:2]
            return face.size, np.concatenate([au.raw_vector(face.points) / scale,
                                              head_pose(face.points, w, h), eye_angles(face.points)[:1]])

        for r in rows:
            rgb = load_image(args.data / "facial_expressions" / r["path"])
            ref = measure(rgb)
            if ref is None:
                continue
            got = {}
            for s in sizes:
                k = s / ref[0]
                small = cv2.resize(rgb, (max(1, round(rgb.shape[1] * k)), max(1, round(rgb.shape[0] * k))),
                                   interpolation=cv2.INTER_AREA)
                got[s] = measure(small)
            if any(v is None for v in got.values()):
                continue
            kept += 1
            full_px.append(ref[0])
            for s in sizes:
                diffs[s].append(np.abs(got[s][1] - ref[1]))
    print(f"stability over {kept} photos (face found at every size); full-size faces: median "
          f"{np.median(full_px):.0f} px")
    print("face px | AU mean |d| (SDs) | AU max-of-15 |d| | yaw | pitch | roll | eye yaw"
          "  (mean |d|, degrees)")
    n_au = len(au.AU_NAMES)
    for s in sizes:
        d = np.array(diffs[s])
        print(f"{s:7d} | {d[:, :n_au].mean():.2f} | {d[:, :n_au].max(1).mean():.2f} | "
              + " | ".join(f"{d[:, n_au + k][np.isfinite(d[:, n_au + k])].mean():.1f}" for k in range(4)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--before-src", type=Path, help="another checkout's src folder (the code before)")
    ap.add_argument("--parts", default="refusals,stability")
    ap.add_argument("--n-ferplus", type=int, default=500)
    ap.add_argument("--n-thumbs", type=int, default=300)
    ap.add_argument("--n-stability", type=int, default=150)
    ap.add_argument("--sizes", default="128,96,64,48,32,24")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return run_child(args.child)
    parts = args.parts.split(",")
    if "refusals" in parts:
        if args.before_src is None:
            ap.error("--before-src is needed for the refusals part")
        refusals(args)
    if "stability" in parts:
        stability(args)


if __name__ == "__main__":
    main()
