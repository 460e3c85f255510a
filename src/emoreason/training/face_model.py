"""Train the face expression head on ``facial_expressions`` and write it to ``assets/models/face``.

    python -m emoreason.training.face_model --data ../shared/data --out src/emoreason/assets/models/face

Steps: the face stage's own feature code on every photo (mesh -> AU-like measures and face shape;
fer's probabilities and 128-d features); the population AU baseline from the neutral photos
(``au_baseline.json``); then candidate softmax regressions compared with baselines (majority class,
fer alone) by 5-fold cross-validation grouped by person (the name in the file name), 3 seeds; plus a
cross-source check (train on the LFW photos, test on the film-still photos). The best candidate is
refitted on everything and shipped; it becomes the default only if its grouped-CV UAR is not below fer
alone's. Classes are weighted inversely to their frequency (sklearn's ``class_weight="balanced"``).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError, EmoreasonError
from emoreason.labels import CANONICAL, FACIAL_EXPRESSIONS

BLOCK_SETS: dict[str, tuple[str, ...]] = {
    "fer_logp": ("fer_logp",),
    "geometry": ("au", "shape"),
    "geometry+fer_logp": ("au", "shape", "fer_logp"),
    "geometry+fer_logp+fer_feat": ("au", "shape", "fer_logp", "fer_feat"),
    "fer_logp+fer_feat": ("fer_logp", "fer_feat"),
}
C_GRID = (0.01, 0.1, 1.0)
SEEDS = (0, 1, 2)
LFW_NAME = re.compile(r"_\d{4}\.jpg$")


def person_of(path: str) -> str:
    """Group key: the person's name in the file name (``Al_Gore_0002.jpg`` -> ``Al_Gore``)."""
    stem = Path(path).stem
    return re.sub(r"_\d+$", "", stem)


def extract(data: Path, log=print) -> dict[str, np.ndarray]:
    """Features of every labelled photo whose label has a canonical counterpart and where a face is found."""
    import cv2

    from emoreason.perception import action_units as au
    from emoreason.perception.face_expression import FerClassifier, face_crop_gray, fer_logp
    from emoreason.perception.face_mesh import FaceMeshTracker

    root = data / "facial_expressions"
    labels_csv = root / "labels.csv"
    if not labels_csv.is_file():
        raise ConfigError(f"{labels_csv} not found: point --data at the shared data folder")
    with labels_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fer = FerClassifier()
    out: dict[str, list] = {k: [] for k in ("au", "shape", "fer_logp", "fer_feat", "y", "group", "lfw", "path")}
    skipped = {"no canonical label": 0, "no face": 0, "unreadable": 0}
    t0 = time.time()
    with FaceMeshTracker(static=True) as tracker:
        for i, row in enumerate(rows):
            label = FACIAL_EXPRESSIONS.canonical(row["emotion"])
            if label is None:
                skipped["no canonical label"] += 1
                continue
            gray = cv2.imread(str(root / row["path"]), cv2.IMREAD_GRAYSCALE)
            if gray is None:
                skipped["unreadable"] += 1
                continue
            rgb = np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
            face = max(tracker.faces(rgb), key=lambda m: m.size, default=None)
            if face is None:
                skipped["no face"] += 1
                continue
            scores, feat = fer.predict(face_crop_gray(rgb, face.points))
            out["au"].append(au.raw_vector(face.points))
            out["shape"].append(au.shape_vector(face.points))
            out["fer_logp"].append(fer_logp(scores))
            out["fer_feat"].append(feat)
            out["y"].append(CANONICAL.index(label))
            out["group"].append(person_of(row["path"]))
            out["lfw"].append(bool(LFW_NAME.search(row["path"])))
            out["path"].append(row["path"])
            if i % 1000 == 0:
                log(f"  features: {i}/{len(rows)} photos, {time.time() - t0:.0f} s")
    log(f"  features: {len(out['y'])} photos used; skipped {skipped}")
    arrays = {k: np.asarray(v) for k, v in out.items()}
    arrays["skipped"] = np.array(json.dumps(skipped))
    return arrays


def uar(y: np.ndarray, pred: np.ndarray, classes: np.ndarray) -> float:
    return float(np.mean([np.mean(pred[y == c] == c) for c in classes if np.any(y == c)]))


def fit_lr(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    mean, std = x.mean(0), x.std(0)
    std = np.where(std > 1e-9, std, 1.0)
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    lr.fit((x - mean) / std, y)
    return lr, mean, std


def predict_lr(model, x: np.ndarray) -> np.ndarray:
    lr, mean, std = model
    return lr.classes_[lr.predict_proba((x - mean) / std).argmax(1)]


def evaluate(feats: dict[str, np.ndarray], folds: int, log=print) -> dict:
    """Grouped CV of every candidate and baseline over :data:`SEEDS`; cross-source check."""
    from sklearn.model_selection import StratifiedGroupKFold

    y, groups, lfw = feats["y"], feats["group"], feats["lfw"].astype(bool)
    classes = np.unique(y)
    fer_pred = feats["fer_logp"].argmax(1)
    names = ["majority", "fer alone"] + [f"{b} C={c}" for b in BLOCK_SETS for c in C_GRID]
    res = {n: {"uar": [], "war": [], "pred": None} for n in names}
    for seed in SEEDS:
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        preds = {n: np.empty_like(y) for n in names}
        for tr, te in cv.split(y, y, groups):
            preds["majority"][te] = np.bincount(y[tr]).argmax()
            preds["fer alone"][te] = fer_pred[te]
            for bname, blocks in BLOCK_SETS.items():
                x = np.hstack([feats[b] for b in blocks])
                for c in C_GRID:
                    preds[f"{bname} C={c}"][te] = predict_lr(fit_lr(x[tr], y[tr], c), x[te])
        for n in names:
            res[n]["uar"].append(uar(y, preds[n], classes))
            res[n]["war"].append(float(np.mean(preds[n] == y)))
            if seed == SEEDS[0]:
                res[n]["pred"] = preds[n]
        log(f"  seed {seed} done")
    # cross-source: train on LFW photos, test on the others (film stills)
    for n in names:
        if n == "fer alone":
            p = fer_pred[~lfw]
        elif n == "majority":
            p = np.full((~lfw).sum(), np.bincount(y[lfw]).argmax())
        else:
            bname, c = n.rsplit(" C=", 1)
            x = np.hstack([feats[b] for b in BLOCK_SETS[bname]])
            p = predict_lr(fit_lr(x[lfw], y[lfw], float(c)), x[~lfw])
        res[n]["cross_source_uar"] = uar(y[~lfw], p, np.unique(y[~lfw]))
    return res


def confusion_png(y: np.ndarray, preds: dict[str, np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emoreason.io.atomic import atomic_path

    classes = np.unique(y)
    names = [CANONICAL[c] for c in classes]
    fig, axes = plt.subplots(1, len(preds), figsize=(6 * len(preds), 5.2))
    for ax, (title, p) in zip(np.atleast_1d(axes), preds.items(), strict=True):
        m = np.array([[np.sum((y == a) & (p == b)) for b in classes] for a in classes], dtype=float)
        norm = m / m.sum(1, keepdims=True)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, f"{norm[i, j]:.2f}\n({int(m[i, j])})", ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(classes)), names, rotation=45)
        ax.set_yticks(range(len(classes)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title, fontsize=10)
    fig.suptitle("facial_expressions, 5-fold CV grouped by person (seed 0), rows normalised")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m emoreason.training.face_model", description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="shared data folder")
    ap.add_argument("--out", type=Path, default=Path("src/emoreason/assets/models/face"))
    ap.add_argument("--figure", type=Path, default=Path("docs/model_cards/face_confusion.png"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=None, help="optional .npz to keep/reuse extracted features")
    args = ap.parse_args(argv)
    from emoreason.io.atomic import atomic_write, atomic_write_text
    from emoreason.perception import action_units as au
    from emoreason.perception.face_expression import ExpressionHead

    log = lambda s: print(s, flush=True)  # noqa: E731
    if args.cache is not None and args.cache.is_file():
        with np.load(args.cache, allow_pickle=False) as z:
            feats = {k: z[k] for k in z.files}
    else:
        try:
            feats = extract(args.data, log)
        except EmoreasonError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        if args.cache is not None:
            with atomic_write(args.cache, "wb") as f:
                np.savez(f, **feats)
    y = feats["y"]
    neutral_raw = feats["au"][y == CANONICAL.index("neutral")]
    mad = np.median(np.abs(neutral_raw - np.median(neutral_raw, 0)), 0) * 1.4826
    baseline = au.AUBaseline(dict(zip(au.AU_NAMES, np.median(neutral_raw, 0), strict=True)),
                             dict(zip(au.AU_NAMES, mad, strict=True)),
                             source=f"population: median and MAD-SD of {len(neutral_raw)} neutral photos "
                                    "of facial_expressions")
    atomic_write_text(args.out / "au_baseline.json", json.dumps(baseline.to_json(), indent=1) + "\n")

    res = evaluate(feats, args.folds, log)
    log(f"\n{'model':<34} {'UAR mean ± std (3 seeds)':>26} {'WAR mean ± std':>18} {'cross-source UAR':>17}")
    for n, r in res.items():
        log(f"{n:<34} {np.mean(r['uar']):>17.3f} ± {np.std(r['uar']):.3f} "
            f"{np.mean(r['war']):>9.3f} ± {np.std(r['war']):.3f} {r['cross_source_uar']:>17.3f}")
    trained = [n for n in res if n not in ("majority", "fer alone")]
    best = max(trained, key=lambda n: np.mean(res[n]["uar"]))
    fer_uar = float(np.mean(res["fer alone"]["uar"]))
    use = bool(np.mean(res[best]["uar"]) >= fer_uar and res[best]["cross_source_uar"] >= res["fer alone"]["cross_source_uar"])
    classes = np.unique(y)
    recall = {n: {CANONICAL[c]: float(np.mean(res[n]["pred"][y == c] == c)) for c in classes}
              for n in ("fer alone", best)}
    log(f"\nchosen: {best}; default: {'this head' if use else 'fer alone'} "
        f"(head UAR {np.mean(res[best]['uar']):.3f} vs fer {fer_uar:.3f}; cross-source "
        f"{res[best]['cross_source_uar']:.3f} vs {res['fer alone']['cross_source_uar']:.3f})")
    log("per-class recall (seed 0): " + json.dumps(recall))

    bname, c = best.rsplit(" C=", 1)
    blocks = BLOCK_SETS[bname]
    x = np.hstack([feats[b] for b in blocks])
    lr, mean, std = fit_lr(x, y, float(c))
    w = np.zeros((x.shape[1], len(lr.classes_)))
    w[:, :] = lr.coef_.T
    head = ExpressionHead([CANONICAL[k] for k in lr.classes_], list(blocks), mean, std, w, lr.intercept_)
    summary = {n: {"uar_mean": float(np.mean(r["uar"])), "uar_std": float(np.std(r["uar"])),
                   "war_mean": float(np.mean(r["war"])), "war_std": float(np.std(r["war"])),
                   "cross_source_uar": float(r["cross_source_uar"])} for n, r in res.items()}
    head.save(args.out, extra={
        "name": f"emoreason face head v1 ({bname}, softmax regression C={c})", "use_by_default": use,
        "trained_on": "facial_expressions (shared data), contempt excluded", "n_train": int(len(y)),
        "class_weight": "balanced (inverse class frequency)", "seeds": list(SEEDS), "folds": args.folds,
        "grouping": "person name from the file name", "skipped": json.loads(str(feats["skipped"])),
        "per_class_recall_seed0": recall, "cv": summary,
    })
    confusion_png(y, {"fer alone (zero-shot)": res["fer alone"]["pred"], f"ours: {best}": res[best]["pred"]},
                  args.figure)
    log(f"wrote {args.out}/head.json (+ .npy arrays), {args.out}/au_baseline.json, {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
