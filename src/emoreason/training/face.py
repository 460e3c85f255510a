"""Train the face expression models on ``facial_expressions`` and write them to ``assets/models/face``.

    python -m emoreason.training.face --data ../shared/data --out src/emoreason/assets/models/face

Steps: the face stage's own feature code on every photo (:mod:`emoreason.training.face_features`: mesh ->
AU-like measures and face shape; fer's probabilities and 128-d features; facex's probabilities); the
population AU baseline from the neutral photos (``au_baseline.json``); then candidates compared with baselines
(majority class, fer alone, facex alone) by 5-fold cross-validation grouped by person (the name in the file
name), 3 seeds; plus a cross-source check (train on the LFW photos, test on the film-still photos).
Candidates: small log-linear pools of fer and facex (``pool.json``: two weights >= 0, 7 biases, optionally a
linear term on the AU measures) and softmax regressions on feature blocks (``head.json``). The pool with the
best mean of grouped-CV UAR and cross-source UAR is shipped, and is the default of ``analyze`` if it beats
both fer alone and facex alone on both; the best regression is shipped as an optional head. Classes are
weighted inversely to their frequency (sklearn's ``class_weight="balanced"``; the same weights in the pools'
log-loss); no resampling. Scores come from :mod:`emoreason.eval.metrics`, the confusion figure from
:mod:`emoreason.eval.plots`.

sklearn, scipy.optimize and matplotlib (through eval.plots) are imported inside the functions that use them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emoreason.errors import EmoreasonError
from emoreason.eval.metrics import class_order, confusion_matrix, per_class, uar
from emoreason.io.atomic import atomic_write_text
from emoreason.labels import CANONICAL
from emoreason.perception.face.head import ExpressionHead
from emoreason.training.face_features import cached_features, population_baseline
from emoreason.training.face_pool import fit_pool

BLOCK_SETS: dict[str, tuple[str, ...]] = {
    "fer_logp": ("fer_logp",),
    "geometry": ("au", "shape"),
    "geometry+fer_logp": ("au", "shape", "fer_logp"),
    "geometry+fer_logp+fer_feat": ("au", "shape", "fer_logp", "fer_feat"),
    "fer_logp+fer_feat": ("fer_logp", "fer_feat"),
    "fer_logp+facex_logp": ("fer_logp", "facex_logp"),
    "au+fer_logp+facex_logp": ("au", "fer_logp", "facex_logp"),
}
C_GRID = (0.01, 0.1, 1.0)
SEEDS = (0, 1, 2)
POOL_AU_C = (0.01, 0.1)
#: Probability floors tried for the pools (1e-4: the floor of the log-probability features; 0.05: caps
#: one model's veto).
POOL_FLOORS = (1e-4, 0.05)


def label_names(indices: Sequence[int]) -> list[str]:
    """Canonical label indices (as ``y`` and the predictions hold them) -> label names, for eval.metrics."""
    return [CANONICAL[int(i)] for i in indices]


def index_uar(y: np.ndarray, pred: np.ndarray) -> float:
    """:func:`emoreason.eval.metrics.uar` of canonical-index arrays (classes absent from ``y`` left out)."""
    return uar(label_names(y), label_names(pred))


def recall_by_class(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Recall of each class present in ``y`` (canonical order), by eval.metrics' ``per_class``."""
    pc = per_class(label_names(y), label_names(pred))
    return {label: float(r) for label, r in zip(pc.labels, pc.recall, strict=True)}


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


def pool_candidates() -> dict[str, dict]:
    """The fer+facex pools compared (each a small :class:`ExpressionPool`): name -> fit_pool kwargs."""
    out = {}
    for floor in POOL_FLOORS:
        out[f"pool equal weights + biases, floor {floor:g}"] = {"equal": True, "floor": floor}
        out[f"pool weights >= 0 + biases, floor {floor:g}"] = {"equal": False, "floor": floor}
    for c in POOL_AU_C:
        out[f"pool weights >= 0 + biases + AU C={c}, floor {POOL_FLOORS[-1]:g}"] = {
            "equal": False, "au": True, "au_c": c, "floor": POOL_FLOORS[-1]}
    return out


def _fit_pool_on(feats: dict[str, np.ndarray], idx: np.ndarray, spec: dict):
    au_raw = feats["au"][idx] if spec.get("au") else None
    return fit_pool(feats["fer_logp"][idx], feats["facex_logp"][idx], feats["y"][idx], au_raw=au_raw,
                    au_c=spec.get("au_c", 0.1), equal=spec["equal"], floor=spec.get("floor", 1e-4))


def _pool_proba(pool, feats: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    return pool.predict_proba(feats["fer_logp"][idx], feats["facex_logp"][idx],
                              feats["au"][idx] if pool.uses_au else None)


def evaluate(feats: dict[str, np.ndarray], folds: int, log=print) -> dict:
    """Grouped CV of every candidate and baseline over :data:`SEEDS`; cross-source check.

    Besides predictions, keeps the pools' out-of-fold logits of the first seed (for a temperature)."""
    from sklearn.model_selection import StratifiedGroupKFold

    y, groups, lfw = feats["y"], feats["group"], feats["lfw"].astype(bool)
    fer_pred = feats["fer_logp"].argmax(1)
    facex_pred = feats["facex_logp"].argmax(1)
    pools = pool_candidates()
    names = (["majority", "fer alone", "facex alone"] + list(pools)
             + [f"{b} C={c}" for b in BLOCK_SETS for c in C_GRID])
    res = {n: {"uar": [], "war": [], "pred": None} for n in names}
    oof_logits = {n: np.zeros((len(y), len(CANONICAL))) for n in pools}
    for seed in SEEDS:
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        preds = {n: np.empty_like(y) for n in names}
        for tr, te in cv.split(y, y, groups):
            preds["majority"][te] = np.bincount(y[tr]).argmax()
            preds["fer alone"][te] = fer_pred[te]
            preds["facex alone"][te] = facex_pred[te]
            for pname, spec in pools.items():
                pool = _fit_pool_on(feats, tr, spec)
                z = pool.logits(feats["fer_logp"][te], feats["facex_logp"][te],
                                feats["au"][te] if pool.uses_au else None)
                preds[pname][te] = z.argmax(1)
                if seed == SEEDS[0]:
                    oof_logits[pname][te] = z
            for bname, blocks in BLOCK_SETS.items():
                x = np.hstack([feats[b] for b in blocks])
                for c in C_GRID:
                    preds[f"{bname} C={c}"][te] = predict_lr(fit_lr(x[tr], y[tr], c), x[te])
        for n in names:
            res[n]["uar"].append(index_uar(y, preds[n]))
            res[n]["war"].append(float(np.mean(preds[n] == y)))
            if seed == SEEDS[0]:
                res[n]["pred"] = preds[n]
        log(f"  seed {seed} done")
    # cross-source: train on LFW photos, test on the others (film stills)
    test = np.flatnonzero(~lfw)
    for n in names:
        if n == "fer alone":
            p = fer_pred[~lfw]
        elif n == "facex alone":
            p = facex_pred[~lfw]
        elif n == "majority":
            p = np.full((~lfw).sum(), np.bincount(y[lfw]).argmax())
        elif n in pools:
            p = _pool_proba(_fit_pool_on(feats, np.flatnonzero(lfw), pools[n]), feats, test).argmax(1)
        else:
            bname, c = n.rsplit(" C=", 1)
            x = np.hstack([feats[b] for b in BLOCK_SETS[bname]])
            p = predict_lr(fit_lr(x[lfw], y[lfw], float(c)), x[~lfw])
        res[n]["cross_source_uar"] = index_uar(y[~lfw], p)
        res[n]["cross_source_war"] = float(np.mean(p == y[~lfw]))
    for n in pools:
        res[n]["oof_logits_seed0"] = oof_logits[n]
    return res


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The T minimising the (unweighted) log-loss of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        z = logits / np.exp(log_t)
        z = z - z.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]))

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def confusion_figure(y: np.ndarray, preds: dict[str, np.ndarray], path: Path) -> None:
    """One row-normalised confusion panel per ``title: predictions`` (canonical indices), drawn by
    :func:`emoreason.eval.plots.save_confusion_figure` (matplotlib is imported here, when drawing)."""
    from emoreason.eval.plots import save_confusion_figure

    truth = label_names(y)
    labels = class_order(truth)
    panels = [(confusion_matrix(truth, label_names(p), labels), labels, title) for title, p in preds.items()]
    save_confusion_figure(panels, path, suptitle="facial_expressions, 5-fold CV grouped by person (seed 0), "
                          "rows normalised", dpi=90, panel_size=(6, 5.2), ylabel="true")


def print_scores(res: dict, log=print) -> None:
    """The table of every candidate's grouped-CV and cross-source scores."""
    log(f"\n{'model':<42} {'UAR mean ± std (3 seeds)':>26} {'WAR mean ± std':>18} {'cross-source UAR':>17} "
        f"{'cross-source WAR':>17}")
    for n, r in res.items():
        log(f"{n:<42} {np.mean(r['uar']):>17.3f} ± {np.std(r['uar']):.3f} "
            f"{np.mean(r['war']):>9.3f} ± {np.std(r['war']):.3f} {r['cross_source_uar']:>17.3f} "
            f"{r['cross_source_war']:>17.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m emoreason.training.face", description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="shared data folder")
    ap.add_argument("--out", type=Path, default=Path("src/emoreason/assets/models/face"))
    ap.add_argument("--figure", type=Path, default=Path("docs/model_cards/face_confusion.png"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=None, help="optional .npz to keep/reuse extracted features")
    args = ap.parse_args(argv)
    log = lambda s: print(s, flush=True)  # noqa: E731
    try:
        feats = cached_features(args.data, args.cache, log)
    except EmoreasonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    y = feats["y"]
    baseline = population_baseline(feats["au"][y == CANONICAL.index("neutral")])
    atomic_write_text(args.out / "au_baseline.json", json.dumps(baseline.to_json(), indent=1) + "\n")

    res = evaluate(feats, args.folds, log)
    print_scores(res, log)
    peers = ("fer alone", "facex alone")

    def beats_peers(n: str) -> bool:
        return all(np.mean(res[n]["uar"]) > np.mean(res[p]["uar"])
                   and res[n]["cross_source_uar"] > res[p]["cross_source_uar"] for p in peers)

    # the default: a pool (few parameters, weights >= 0) chosen by the mean of grouped-CV UAR and
    # cross-source UAR; it becomes the default only if it beats both peers on both
    pools = pool_candidates()
    best_pool = max(pools, key=lambda n: (np.mean(res[n]["uar"]) + res[n]["cross_source_uar"]) / 2)
    use_pool = beats_peers(best_pool)
    # the optional head: the best softmax regression by grouped-CV UAR
    trained = [n for n in res if n not in ("majority", *peers) and n not in pools]
    best = max(trained, key=lambda n: np.mean(res[n]["uar"]))
    use_head = bool(not use_pool and beats_peers(best))
    recall = {n: recall_by_class(y, res[n]["pred"]) for n in ("fer alone", "facex alone", best_pool, best)}
    temperature = fit_temperature(res[best_pool]["oof_logits_seed0"], y)
    cv_uar = {n: np.mean(res[n]["uar"]) for n in (best_pool, *peers)}
    cross = {n: res[n]["cross_source_uar"] for n in (best_pool, *peers)}
    log(f"\nchosen pool: {best_pool}; default: {'this pool' if use_pool else 'not this pool'} "
        f"(UAR {cv_uar[best_pool]:.3f} vs fer {cv_uar['fer alone']:.3f}, facex {cv_uar['facex alone']:.3f}; "
        f"cross-source {cross[best_pool]:.3f} vs fer {cross['fer alone']:.3f}, "
        f"facex {cross['facex alone']:.3f})")
    log(f"held-out temperature of the chosen pool (out-of-fold logits, seed 0, unweighted log-loss): "
        f"T = {temperature:.3f}")
    log(f"best head: {best}; default: {use_head}")
    log("per-class recall (seed 0): " + json.dumps(recall))

    summary = {n: {"uar_mean": float(np.mean(r["uar"])), "uar_std": float(np.std(r["uar"])),
                   "war_mean": float(np.mean(r["war"])), "war_std": float(np.std(r["war"])),
                   "cross_source_uar": float(r["cross_source_uar"]),
                   "cross_source_war": float(r["cross_source_war"])} for n, r in res.items()}
    common = {"trained_on": "facial_expressions (shared data), contempt excluded", "n_train": int(len(y)),
              "class_weight": "balanced (inverse class frequency)", "seeds": list(SEEDS), "folds": args.folds,
              "grouping": "person name from the file name", "skipped": json.loads(str(feats["skipped"])),
              "per_class_recall_seed0": recall, "cv": summary}
    pool = _fit_pool_on(feats, np.arange(len(y)), pools[best_pool])
    pool.save(args.out, extra={"name": f"emoreason face pool v1 ({best_pool})", "use_by_default": use_pool,
                               "heldout_temperature": temperature, **common})
    bname, c = best.rsplit(" C=", 1)
    blocks = BLOCK_SETS[bname]
    x = np.hstack([feats[b] for b in blocks])
    lr, mean, std = fit_lr(x, y, float(c))
    w = np.zeros((x.shape[1], len(lr.classes_)))
    w[:, :] = lr.coef_.T
    head = ExpressionHead([CANONICAL[k] for k in lr.classes_], list(blocks), mean, std, w, lr.intercept_)
    head.save(args.out, extra={"name": f"emoreason face head v1 ({bname}, softmax regression C={c})",
                               "use_by_default": use_head, **common})
    confusion_figure(y, {"fer alone (zero-shot)": res["fer alone"]["pred"],
                         "facex alone (zero-shot)": res["facex alone"]["pred"],
                         f"ours: {best_pool}": res[best_pool]["pred"]}, args.figure)
    log(f"wrote {args.out}/pool.json, {args.out}/head.json (+ .npy arrays), {args.out}/au_baseline.json, "
        f"{args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
