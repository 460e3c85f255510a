"""Fit the net+fer+facex pool (:class:`~emoreason.perception.face.pool.NetPool`) on FER+ valid::

    python -m emoreason.training.ferplus.pool --data ../shared/data --out src/emoreason/assets/models/face

Runs the three image models on every FER+ valid face whose majority is a canonical emotion (contempt,
unknown and NF left out): the network in ``--out`` (prior-corrected, as the face stage uses it), fer on the
48x48 image enlarged to 64x64 (bicubic), facex on the image itself (its own resize to 200x200). Fits the
weights (>= 0) and 7 biases by class-balanced log-loss (each face weighted n / (7 n_class); floor 0.05;
bias penalty 1e-3 |b|^2; L-BFGS-B), reports the same fit's 2-fold cross-validated UAR on FER+ valid
(seed 0), and writes ``net_pool.json``. FER+ train is not used: the network has fitted it.
scipy.optimize is imported in :func:`fit_net_pool`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from emoreason.labels import CANONICAL
from emoreason.perception.face.expression_net import (
    FERPLUS_CLASSES,
    FERPLUS_TO_CANONICAL,
    NET_FILE,
    ExpressionNet,
)
from emoreason.perception.face.image_models import FacexClassifier, FerClassifier
from emoreason.perception.face.pool import NetPool
from emoreason.training.face import index_uar
from emoreason.training.face_pool import balanced_log_loss
from emoreason.training.ferplus.data import FerSplit, load_split

FLOOR = 0.05
BIAS_PENALTY = 1e-3


def model_probabilities(split: FerSplit, net: ExpressionNet) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(n, 7) canonical probabilities of each model on the faces whose majority is one of FER+'s first
    seven emotions, and their canonical label indices."""
    keep = (split.majority >= 0) & (split.majority < 7)
    y = np.array([CANONICAL.index(FERPLUS_TO_CANONICAL[FERPLUS_CLASSES[m]]) for m in split.majority[keep]])
    fer, facex = FerClassifier(), FacexClassifier()
    rows: dict[str, list] = {"net": [], "fer": [], "facex": []}
    for im in split.images[keep]:
        scores = {"net": net.scores(net.run(im))[0],
                  "fer": fer.predict(cv2.resize(im, (64, 64), interpolation=cv2.INTER_CUBIC))[0],
                  "facex": facex.predict(im)}
        for m, s in scores.items():
            rows[m].append([s[c] for c in CANONICAL])
    return {m: np.asarray(v) for m, v in rows.items()}, y


def fit_net_pool(probs: dict[str, np.ndarray], y: np.ndarray, floor: float = FLOOR) -> NetPool:
    """Weights (>= 0) and biases of a :class:`NetPool` by class-balanced log-loss."""
    from scipy.optimize import minimize

    names = NetPool.MODELS
    logs = [np.log(np.maximum(probs[m], floor)) for m in names]
    k, m = len(CANONICAL), len(names)
    data_loss = balanced_log_loss(y, k)

    def loss(theta):
        val, g = data_loss(sum(theta[i] * logs[i] for i in range(m)) + theta[m:])
        val = val + BIAS_PENALTY * np.sum(theta[m:] ** 2)
        grad = np.concatenate([[np.sum(g * lg) for lg in logs], g.sum(0) + 2 * BIAS_PENALTY * theta[m:]])
        return val, grad

    theta0 = np.concatenate([np.full(m, 0.5), np.zeros(k)])
    r = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * m + [(None, None)] * k)
    return NetPool(dict(zip(names, r.x[:m].tolist(), strict=True)), r.x[m:], floor)


def cross_validated(probs: dict[str, np.ndarray], y: np.ndarray, seed: int = 0) -> dict:
    """2-fold cross-validated accuracy and UAR of the fit (folds: a seeded permutation)."""
    fold = np.random.default_rng(seed).permutation(len(y)) % 2
    pred = np.empty(len(y), dtype=int)
    for k in (0, 1):
        pool = fit_net_pool({m: p[fold != k] for m, p in probs.items()}, y[fold != k])
        test = {m: np.log(np.maximum(p[fold == k], 1e-12)) for m, p in probs.items()}
        pred[fold == k] = pool.predict_proba(test).argmax(1)
    return {"n": int(len(y)), "accuracy": float((pred == y).mean()), "uar": index_uar(y, pred)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m emoreason.training.ferplus.pool",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="shared data (has ferplus/)")
    ap.add_argument("--out", type=Path, default=Path("src/emoreason/assets/models/face"),
                    help=f"the face model folder holding {NET_FILE}")
    ap.add_argument("--default", action="store_true", help="mark the pool use_by_default in its JSON")
    args = ap.parse_args(argv)
    net = ExpressionNet(args.out / NET_FILE)
    probs, y = model_probabilities(load_split(args.data / "ferplus", "valid"), net)
    pool = fit_net_pool(probs, y)
    cv = cross_validated(probs, y)
    pool.save(args.out, extra={"name": "emoreason FER+ net + fer + facex pool",
                               "use_by_default": args.default, "valid_cv2": cv,
                               "fitted_on": "FER+ valid (faces with a canonical majority label)"})
    print(f"wrote {args.out / NetPool.FILE}: weights {json.dumps(pool.weights)}; FER+ valid 2-fold "
          f"UAR {cv['uar']:.3f}, accuracy {cv['accuracy']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
