"""Which face crop suits facex's tflite? zero-shot UAR on facial_expressions per crop framing.

facex's own pipeline crops OpenCV's Haar box (grey) and resizes it to 200x200 with scikit-image; emoreason
crops the mediapipe mesh's box made square. This compares, on the photos of ``facial_expressions`` with a
canonical label: facex on the real Haar box (OpenCV's bundled ``haarcascade_frontalface_default.xml``,
``detectMultiScale(gray, 1.1, 4)``, largest box, as facex does), and on mesh squares with several margins
and vertical shifts, including the Haar-matched framing (the median Haar box relative to the mesh box).

    .venv/bin/python benchmarks/facex_crop_study.py --data ../shared/data     # ~15 min on 2 cores
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import cv2
import numpy as np

from emoreason.labels import CANONICAL, FACIAL_EXPRESSIONS
from emoreason.perception.face.crops import face_square_gray
from emoreason.perception.face.image_models import FACEX_CLASSES, FacexClassifier
from emoreason.perception.face.mesh import FaceMeshTracker
from emoreason.training.face import index_uar
from emoreason.training.face_features import LFW_NAME

#: (margin, shift) of :func:`face_square_gray` compared; (-0.045, -0.085) is the Haar-matched framing
#: (median Haar side / mesh side 0.91, Haar centre 0.077 mesh sides higher, measured by this script).
VARIANTS = ((-0.05, 0.0), (0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (-0.045, -0.085), (0.05, -0.085),
            (-0.045, -0.04))
HAAR = "haar box (facex's own crop)"


def _uar(y: np.ndarray, pred: np.ndarray) -> float:
    """UAR of canonical-index arrays; NaN for an empty subset (a small ``--limit``)."""
    return index_uar(y, pred) if len(y) else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--limit", type=int, default=None, help="only the first N photos (a quick look)")
    args = ap.parse_args(argv)
    root = args.data / "facial_expressions"
    with (root / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if FACIAL_EXPRESSIONS.canonical(r["emotion"]) is not None]
    rows = rows[: args.limit] if args.limit else rows
    casc = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    facex = FacexClassifier()
    perm = [FACEX_CLASSES.index(c) for c in CANONICAL]
    n = len(rows)
    y = np.array([CANONICAL.index(FACIAL_EXPRESSIONS.canonical(r["emotion"])) for r in rows])
    lfw = np.array([bool(LFW_NAME.search(r["path"])) for r in rows])
    preds = {k: np.full(n, -1) for k in [HAAR] + [f"mesh m={m:g} shift={s:g}" for m, s in VARIANTS]}
    ratio, dy = [], []
    t0 = time.time()
    with FaceMeshTracker(static=True) as tracker:
        for i, r in enumerate(rows):
            gray = cv2.imread(str(root / r["path"]), cv2.IMREAD_GRAYSCALE)
            rgb = np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
            face = max(tracker.faces(rgb), key=lambda m: m.size, default=None)
            boxes = casc.detectMultiScale(gray, 1.1, 4)
            if len(boxes):
                x, yy, w, h = max(boxes, key=lambda b: b[2] * b[3])
                preds[HAAR][i] = facex.predict_raw(gray[yy:yy + h, x:x + w])[perm].argmax()
                if face is not None:
                    lo, hi = face.points[:, :2].min(0), face.points[:, :2].max(0)
                    side = float(max(hi - lo))
                    ratio.append(w / side)
                    dy.append((yy + h / 2 - (lo[1] + hi[1]) / 2) / side)
            if face is not None:
                for m, s in VARIANTS:
                    p = facex.predict_raw(face_square_gray(rgb, face.points, m, s))[perm].argmax()
                    preds[f"mesh m={m:g} shift={s:g}"][i] = p
            if i % 500 == 0:
                print(f"  {i}/{n} photos, {time.time() - t0:.0f} s", flush=True)
    ratio, dy = np.array(ratio), np.array(dy)
    keep = np.abs(dy) < 0.3
    print(f"\nHaar box vs mesh box ({keep.sum()} photos with both): side ratio median "
          f"{np.median(ratio[keep]):.3f}, centre offset median {np.median(dy[keep]):+.3f} mesh sides "
          "(negative: higher)")
    mesh_ok = preds[f"mesh m={VARIANTS[0][0]:g} shift={VARIANTS[0][1]:g}"] >= 0
    haar_ok = preds[HAAR] >= 0
    subsets = (("photos with a mesh face", mesh_ok),
               ("photos with a mesh AND a Haar face", mesh_ok & haar_ok))
    for subset_name, subset in subsets:
        print(f"\nfacex zero-shot on {subset_name} (n = {subset.sum()}; "
              f"film stills {np.sum(subset & ~lfw)}):")
        print(f"{'crop':<34} {'UAR':>6} {'WAR':>6} {'UAR LFW':>8} {'UAR film':>9}")
        for name, p in preds.items():
            m = subset & (p >= 0)
            if m.sum() < subset.sum():
                continue
            print(f"{name:<34} {_uar(y[m], p[m]):6.3f} {np.mean(p[m] == y[m]):6.3f} "
                  f"{_uar(y[m & lfw], p[m & lfw]):8.3f} {_uar(y[m & ~lfw], p[m & ~lfw]):9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
