"""The face stage's expression models under harder imaging: an under-exposed photo, low contrast, blur, heavy
JPEG compression, a low-resolution face. The model card lists lighting and small faces as failure modes;
this puts numbers on them.

A stratified sample of ``facial_expressions`` (at most ``--per-class`` photos per canonical label, seeded)
is degraded and run through what ``analyze`` runs on a photo: the mediapipe mesh, fer's and facex's
crops and classifiers, and the shipped fer+facex pool (``assets/models/face/pool.json``). Per condition:
the share of photos where a face is still found, and 7-class UAR of fer, facex and the pool on those
photos. The clean row is the baseline; ``ratio`` is the pool's UAR over its clean UAR. The pool's 9
numbers were fitted on these photos, so its clean score is flattering; the ratios are the point.

    .venv/bin/python benchmarks/face_conditions.py --data ../shared/data [--per-class 100] [--flat-range R]

The crops are contrast-stretched when their 1st-99th percentile grey levels span less than
``FLAT_CROP_RANGE`` (100) levels, as shipped (``emoreason.perception.face.crops.stretch_flat``);
``--flat-range 0`` never stretches, ``--flat-range 256`` stretches every crop.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import cv2
import numpy as np

from emoreason.labels import CANONICAL, FACIAL_EXPRESSIONS
from emoreason.perception.face.crops import FLAT_CROP_RANGE, face_crop_gray, face_square_gray
from emoreason.perception.face.expression import DEFAULT_FACE_MODEL_DIR
from emoreason.perception.face.image_models import FacexClassifier, FerClassifier, log_probabilities
from emoreason.perception.face.mesh import FaceMeshTracker
from emoreason.perception.face.pool import ExpressionPool
from emoreason.training.face import index_uar


def degrade(gray: np.ndarray, condition: str, seed: int) -> np.ndarray:
    """``gray`` (uint8) under ``condition``; seeded where noise is added."""
    g = gray.astype(np.float64)
    if condition == "clean":
        out = g
    elif condition == "dark":  # about 1.7 stops under-exposed, with sensor noise
        out = g * 0.3 + np.random.RandomState(seed).randn(*g.shape) * 3.0
    elif condition == "low contrast":
        out = 128 + (g - 128) * 0.4
    elif condition == "blur":
        out = cv2.GaussianBlur(g, (0, 0), 2.5)
    elif condition == "jpeg q10":
        ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 10])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float64)
    elif condition == "low resolution":  # a quarter of the pixels per side, scaled back up
        h, w = gray.shape
        small = cv2.resize(gray, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float64)
    else:
        raise ValueError(condition)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


CONDITIONS = ("clean", "dark", "low contrast", "blur", "jpeg q10", "low resolution")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--flat-range", type=float, default=FLAT_CROP_RANGE, metavar="R",
                    help="stretch crops whose 1st-99th percentile range is under R grey levels (0: never)")
    args = ap.parse_args(argv)
    root = args.data / "facial_expressions"
    with (root / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if FACIAL_EXPRESSIONS.canonical(r["emotion"]) is not None]
    rng = np.random.RandomState(args.seed)
    labels = np.array([CANONICAL.index(FACIAL_EXPRESSIONS.canonical(r["emotion"])) for r in rows])
    pick = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[: args.per_class]
                                   for c in np.unique(labels)]))
    y = labels[pick]
    fer, facex = FerClassifier(), FacexClassifier()
    pool = ExpressionPool.load(DEFAULT_FACE_MODEL_DIR)
    counts = ", ".join(f"{CANONICAL[c]} {np.sum(y == c)}" for c in np.unique(y))
    print(f"{len(pick)} photos ({counts})", flush=True)
    results = {}
    t0 = time.time()
    with FaceMeshTracker(static=True) as tracker:
        for cond in CONDITIONS:
            preds = {k: np.full(len(pick), -1) for k in ("fer", "facex", "pool")}
            for j, i in enumerate(pick):
                gray = cv2.imread(str(root / rows[i]["path"]), cv2.IMREAD_GRAYSCALE)
                g = degrade(gray, cond, seed=int(i))
                rgb = np.ascontiguousarray(np.stack([g] * 3, axis=-1))
                face = max(tracker.faces(rgb), key=lambda m: m.size, default=None)
                if face is None:
                    continue
                c64 = face_crop_gray(rgb, face.points, flat_range=args.flat_range)
                square = face_square_gray(rgb, face.points, flat_range=args.flat_range)
                lf = log_probabilities(fer.predict(c64)[0])
                lx = log_probabilities(facex.predict(square))
                preds["fer"][j], preds["facex"][j] = lf.argmax(), lx.argmax()
                preds["pool"][j] = pool.predict_proba(lf[None], lx[None])[0].argmax()
            results[cond] = preds
            print(f"  {cond}: done ({time.time() - t0:.0f} s)", flush=True)
    clean = results["clean"]["pool"]
    base = index_uar(y[clean >= 0], clean[clean >= 0])
    print(f"\n7-class UAR on the photos where a face is found (seed {args.seed}, up to {args.per_class} per "
          f"class; crops stretched where their grey-level range < {args.flat_range:g})")
    print(f"{'condition':<15} {'face found':>10} {'fer':>6} {'facex':>6} {'pool':>6} {'ratio':>6}")
    for cond, preds in results.items():
        found = preds["pool"] >= 0
        scores = {k: index_uar(y[found], p[found]) for k, p in preds.items()}
        print(f"{cond:<15} {found.mean():>10.3f} {scores['fer']:>6.3f} {scores['facex']:>6.3f} "
              f"{scores['pool']:>6.3f} {scores['pool'] / base:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
