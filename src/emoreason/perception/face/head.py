"""The optional expression head: a softmax regression on standardised feature blocks, in numpy.

Shipped as ``head.json`` + ``mean/std/weights/bias.npy`` in ``assets/models/face/`` (written by
``python -m emoreason.training.face``; no pickle). ``head.json`` names the feature blocks the head reads, in
order (see :meth:`~emoreason.perception.face.expression.FaceReadings.feature_blocks`)::

    {"classes": [...], "blocks": ["au", "fer_logp", "facex_logp"], "mean": "mean.npy", "std": "std.npy",
     "weights": "weights.npy", "bias": "bias.npy", "use_by_default": false, ...metrics}
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError
from emoreason.io.atomic import atomic_write, atomic_write_text
from emoreason.labels import CANONICAL


class ExpressionHead:
    """Softmax regression over named feature blocks, loaded from ``head.json`` + ``.npy`` arrays."""

    FILE = "head.json"
    #: The feature blocks a head may read: AU-like measures, face shape, fer's log-probabilities and
    #: 128-d features, facex's log-probabilities.
    BLOCKS = ("au", "shape", "fer_logp", "fer_feat", "facex_logp")

    def __init__(self, classes: list[str], blocks: list[str], mean: np.ndarray, std: np.ndarray,
                 weights: np.ndarray, bias: np.ndarray, meta: dict | None = None) -> None:
        unknown = [b for b in blocks if b not in self.BLOCKS]
        if unknown or not set(classes) <= set(CANONICAL):
            raise ModelError(f"face head has unknown blocks {unknown} or classes {classes}")
        if weights.shape != (mean.shape[0], len(classes)) or bias.shape != (len(classes),):
            raise ModelError(f"face head arrays do not fit: weights {weights.shape}, bias {bias.shape}")
        self.classes, self.blocks = list(classes), list(blocks)
        self.mean, self.std, self.weights, self.bias = mean, np.where(std > 1e-9, std, 1.0), weights, bias
        self.meta = meta or {}

    @classmethod
    def load(cls, model_dir: str | Path) -> ExpressionHead:
        d = Path(model_dir)
        try:
            meta = json.loads((d / cls.FILE).read_text(encoding="utf-8"))
            arrays = {k: np.load(d / meta[k], allow_pickle=False) for k in ("mean", "std", "weights", "bias")}
            return cls(meta["classes"], meta["blocks"], meta=meta, **arrays)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load the face head from {d}: {exc}") from exc

    def save(self, model_dir: str | Path, extra: dict | None = None) -> None:
        """Write ``head.json`` (``extra`` first, then the layout) and the four arrays as float32."""
        d = Path(model_dir)
        d.mkdir(parents=True, exist_ok=True)
        meta = dict(extra or {})
        meta.update({"classes": self.classes, "blocks": self.blocks, "mean": "mean.npy", "std": "std.npy",
                     "weights": "weights.npy", "bias": "bias.npy"})
        for key in ("mean", "std", "weights", "bias"):
            with atomic_write(d / f"{key}.npy", "wb") as f:
                np.save(f, getattr(self, key).astype(np.float32), allow_pickle=False)
        atomic_write_text(d / self.FILE, json.dumps(meta, indent=1) + "\n")

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, d) features in :attr:`blocks` order -> (n, classes) probabilities."""
        z = ((np.atleast_2d(x) - self.mean) / self.std) @ self.weights + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def scores(self, features: dict[str, np.ndarray]) -> dict[str, float]:
        """One face's feature blocks (by name) -> probabilities by canonical label (0 for absent classes)."""
        x = np.concatenate([np.asarray(features[b], dtype=np.float64).reshape(-1) for b in self.blocks])
        p = self.predict_proba(x)[0]
        out = dict.fromkeys(CANONICAL, 0.0)
        out.update({c: float(v) for c, v in zip(self.classes, p, strict=True)})
        return out
