"""The checks behind the FER+ network's numbers in docs/model_cards/face.md ("The FER+ network").

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/face_net_checks.py --data ../shared/data --work WORK

1. ``facial_expressions``: one pass of the face stage's own code over every labelled photo (mesh; fer,
   facex and the old fer+facex pool; the network's 48x48 crops at several margins), cached in
   ``--work/fe.npz`` (about 10 minutes on a shared CPU).
2. FER+ valid: fer (the 48x48 image enlarged to 64x64) and facex (the image itself) on every face whose
   majority is a canonical emotion, cached in ``--work/valid_peers.npz`` (several minutes: facex).
3. Prints: the crop-framing check (mean crop vs FER+'s mean face, by margin; no labels), FER+ valid scores
   (the network alone, fer, facex, the shipped net pool's weights refitted with 2-fold CV), the network's
   unknown/NF output on faces and non-faces, ``facial_expressions`` UAR / accuracy / film stills / LFW-style
   for fer, facex, the old pool (in-sample), the network (raw, prior-corrected, by margin) and the default
   net pool, and per-face speed of the network, fer and facex on one thread.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import cv2
import numpy as np

from emoreason.labels import CANONICAL, FACIAL_EXPRESSIONS
from emoreason.perception.face import action_units as au
from emoreason.perception.face.crops import face_crop_gray, face_square_gray
from emoreason.perception.face.expression import DEFAULT_FACE_MODEL_DIR, FaceReadings, load_expression_model
from emoreason.perception.face.expression_net import NET_FILE, ExpressionNet, canonical_scores, net_crop
from emoreason.perception.face.image_models import FacexClassifier, FerClassifier
from emoreason.perception.face.mesh import FaceMeshTracker
from emoreason.perception.face.pool import NetPool
from emoreason.training.face_features import LFW_NAME, person_of
from emoreason.training.ferplus.data import load_split
from emoreason.training.ferplus.pool import cross_validated, model_probabilities

MARGINS = (0.0, 0.05, 0.10, 0.15, 0.20)


def extract_facial_expressions(data: Path, out: Path) -> None:
    root = data / "facial_expressions"
    rows = list(csv.DictReader(open(root / "labels.csv", newline="", encoding="utf-8")))
    fer, facex, pool = FerClassifier(), FacexClassifier(), load_expression_model("pool")
    got: dict[str, list] = {k: [] for k in ("y", "group", "lfw", "fer", "facex", "pool", "crops", "path")}
    with FaceMeshTracker(static=True) as tracker:
        for i, row in enumerate(rows):
            label = FACIAL_EXPRESSIONS.canonical(row["emotion"])
            if label is None:
                continue
            gray = cv2.imread(str(root / row["path"]), cv2.IMREAD_GRAYSCALE)
            rgb = np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
            face = max(tracker.faces(rgb), key=lambda m: m.size, default=None)
            if face is None:
                continue
            fs, ff = fer.predict(face_crop_gray(rgb, face.points))
            xs = facex.predict(face_square_gray(rgb, face.points))
            ps = pool.scores(FaceReadings(face.points, au.raw_vector(face.points), fs, ff, xs))
            got["y"].append(CANONICAL.index(label))
            got["group"].append(person_of(row["path"]))
            got["lfw"].append(bool(LFW_NAME.search(row["path"])))
            got["path"].append(row["path"])
            for k, s in (("fer", fs), ("facex", xs), ("pool", ps)):
                got[k].append([s[c] for c in CANONICAL])
            crops = [face_crop_gray(rgb, face.points, margin=m, size=48) for m in MARGINS]
            got["crops"].append(np.stack(crops))
            if i % 500 == 0:
                print(f"  facial_expressions: {i}/{len(rows)}", flush=True)
    np.savez_compressed(out, **{k: np.asarray(v) for k, v in got.items()})


def framing(data: Path, fe) -> None:
    root = data / "ferplus"
    rows = list(csv.DictReader(open(root / "valid_labels.csv", newline="")))
    faces = np.stack([cv2.imread(str(root / r["path"]), cv2.IMREAD_GRAYSCALE) for r in rows
                      if r["majority"] not in ("NF", "unknown")]).astype(np.float64)

    def norm(img):
        img = img - img.mean()
        return img / np.linalg.norm(img)

    mean_face = norm(faces.mean(0))
    for j, m in enumerate(MARGINS):
        print(f"framing, margin {m:.2f}: corr(mean crop, FER+ valid mean face) "
              f"{float((mean_face * norm(fe['crops'][:, j].astype(np.float64).mean(0))).sum()):.3f}")


def report(name: str, probs: np.ndarray, y: np.ndarray, lfw: np.ndarray) -> None:
    pred = probs.argmax(1)

    def uar(m):
        return float(np.mean([(pred[m & (y == c)] == c).mean() for c in range(7) if (m & (y == c)).any()]))

    every = np.ones_like(lfw, dtype=bool)
    recall = {CANONICAL[c]: round(float((pred[y == c] == c).mean()), 2) for c in range(7)}
    print(f"facial_expressions, {name}: UAR {uar(every):.3f}, accuracy {float((pred == y).mean()):.3f}, "
          f"film stills UAR {uar(~lfw):.3f}, LFW-style UAR {uar(lfw):.3f}; recall {recall}")


def canon(net: ExpressionNet, raw: np.ndarray, power: float) -> np.ndarray:
    return np.array([[canonical_scores(r, net.prior, power)[0][c] for c in CANONICAL] for r in raw])


def speed(net: ExpressionNet) -> None:
    from skimage import data as skdata

    rgb = np.ascontiguousarray(skdata.astronaut())
    with FaceMeshTracker(static=True) as tracker:
        face, _ = tracker.main_face(rgb)
    fer, facex = FerClassifier(), FacexClassifier()
    pts = face.points
    for name, fn in (("network (crop + ONNX, face and mirror)", lambda: net.run(net_crop(rgb, pts))),
                     ("fer (crop + tflite)", lambda: fer.predict(face_crop_gray(rgb, pts))),
                     ("facex (crop + resize + tflite)", lambda: facex.predict(face_square_gray(rgb, pts)))):
        for _ in range(10):
            fn()
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        print(f"speed, {name}: median {1000 * np.median(times):.2f} ms per face (one thread)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--work", type=Path, default=Path("face_net_work"), help="folder for the two caches")
    ap.add_argument("--models", type=Path, default=DEFAULT_FACE_MODEL_DIR, help="face model folder")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    net = ExpressionNet(args.models / NET_FILE)
    if not (args.work / "fe.npz").is_file():
        extract_facial_expressions(args.data, args.work / "fe.npz")
    fe = np.load(args.work / "fe.npz")
    valid = load_split(args.data / "ferplus", "valid")
    if not (args.work / "valid_peers.npz").is_file():
        probs, y = model_probabilities(valid, net)
        np.savez(args.work / "valid_peers.npz", fer=probs["fer"], facex=probs["facex"], yt=y)
    peers = np.load(args.work / "valid_peers.npz")
    framing(args.data, fe)
    keep = (valid.majority >= 0) & (valid.majority < 7)
    raw_valid = np.stack([net.run(im) for im in valid.images])
    y = peers["yt"]
    probs = {"net": canon(net, raw_valid[keep], net.prior_power), "fer": peers["fer"],
             "facex": peers["facex"]}
    for name, p in probs.items():
        pred = p.argmax(1)
        uar = np.mean([(pred[y == c] == c).mean() for c in range(7)])
        print(f"FER+ valid, {name}: UAR {uar:.3f}, accuracy {(pred == y).mean():.3f} ({len(y)} faces)")
    print(f"FER+ valid, net+fer+facex pool, 2-fold CV: {cross_validated(probs, y)}")
    unread = raw_valid[:, 8:].sum(1)
    junk, emo = valid.majority >= 8, (valid.majority >= 0) & (valid.majority < 8)
    auc = np.mean([a > b for a in unread[junk] for b in unread[emo]])
    print(f"unknown+NF on FER+ valid: emotion faces median {np.median(unread[emo]):.3f}, 99th percentile "
          f"{np.percentile(unread[emo], 99):.3f}; unknown/NF faces median {np.median(unread[junk]):.3f} "
          f"({int(junk.sum())}); AUC {auc:.2f}")
    y_fe, lfw = fe["y"], fe["lfw"]
    for k in ("fer", "facex", "pool"):
        report(k + (" (in-sample)" if k == "pool" else ""), fe[k], y_fe, lfw)
    pool = NetPool.load(args.models)
    for j, m in enumerate(MARGINS):
        raw = np.stack([net.run(c[j]) for c in fe["crops"]])
        if m == 0.10:
            report("network raw", canon(net, raw, 0.0), y_fe, lfw)
            pooled = pool.predict_proba({"net": np.log(np.maximum(canon(net, raw, net.prior_power), 1e-12)),
                                         "fer": np.log(np.maximum(fe["fer"], 1e-12)),
                                         "facex": np.log(np.maximum(fe["facex"], 1e-12))})
            report("net+fer+facex pool (shipped)", pooled, y_fe, lfw)
        report(f"network, prior-corrected, margin {m:.2f}", canon(net, raw, net.prior_power), y_fe, lfw)
    speed(net)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
