"""The default expression model: a weighted log-linear pool of fer's and facex's probabilities.

With per-class biases and, optionally, a small linear term on the standardised AU-like measures::

    z_c = w_fer * log p_fer(c) + w_facex * log p_facex(c) + bias_c [+ ((au - mean) / std) @ au_weights[:, c]]
    p = softmax(z)

Each model's probabilities are floored at ``floor`` before the log (so one over-confident model
cannot veto a class on its own). Shipped as ``pool.json`` in ``assets/models/face/`` (plain numbers, no
pickle; written by ``python -m emoreason.training.face``)::

    {"classes": [7 canonical labels], "w_fer": a, "w_facex": b, "bias": [7], "floor": f,
     "au": null or {"mean": [15], "std": [15], "weights": [15 x 7]}, "use_by_default": true, ...metrics}

Both weights are >= 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError
from emoreason.io.atomic import atomic_write_text
from emoreason.labels import CANONICAL
from emoreason.perception.face.image_models import LOG_FLOOR, log_probabilities


class ExpressionPool:
    """The fer+facex log-linear pool (see the module docstring), loaded from ``pool.json``."""

    FILE = "pool.json"

    def __init__(self, w_fer: float, w_facex: float, bias: np.ndarray, classes: list[str] | None = None,
                 au_mean: np.ndarray | None = None, au_std: np.ndarray | None = None,
                 au_weights: np.ndarray | None = None, meta: dict | None = None,
                 floor: float = LOG_FLOOR) -> None:
        classes = list(classes or CANONICAL)
        if not (np.isfinite(floor) and LOG_FLOOR <= floor < 1.0 / 7):
            raise ModelError(f"face pool floor must lie in [1e-4, 1/7), got {floor}")
        self.floor = float(floor)
        bias = np.asarray(bias, dtype=np.float64)
        if classes != list(CANONICAL):
            raise ModelError(f"face pool must list the canonical classes in order, got {classes}")
        if not (np.isfinite(w_fer) and np.isfinite(w_facex) and w_fer >= 0 and w_facex >= 0):
            raise ModelError(f"face pool weights must be finite and >= 0, got {w_fer}, {w_facex}")
        if bias.shape != (len(classes),) or not np.all(np.isfinite(bias)):
            raise ModelError(f"face pool bias must be {len(classes)} finite numbers, got shape {bias.shape}")
        self.classes, self.w_fer, self.w_facex, self.bias = classes, float(w_fer), float(w_facex), bias
        self.au_mean = self.au_std = self.au_weights = None
        if au_weights is not None:
            m, s, w = (np.asarray(a, dtype=np.float64) for a in (au_mean, au_std, au_weights))
            if m.ndim != 1 or s.shape != m.shape or w.shape != (m.shape[0], len(classes)) \
                    or not all(np.all(np.isfinite(a)) for a in (m, s, w)):
                raise ModelError(f"face pool AU arrays do not fit: mean {m.shape}, std {s.shape}, "
                                 f"weights {w.shape}")
            self.au_mean, self.au_std, self.au_weights = m, np.where(s > 1e-9, s, 1.0), w
        self.meta = meta or {}

    @property
    def uses_au(self) -> bool:
        return self.au_weights is not None

    @classmethod
    def load(cls, path: str | Path) -> ExpressionPool:
        """``path``: ``pool.json`` or the folder holding it."""
        p = Path(path)
        p = p / cls.FILE if p.is_dir() else p
        try:
            meta = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
            au_part = meta.get("au")
            au_args = {} if au_part is None else {"au_mean": au_part["mean"], "au_std": au_part["std"],
                                                  "au_weights": au_part["weights"]}
            return cls(float(meta["w_fer"]), float(meta["w_facex"]),
                       np.asarray(meta["bias"], dtype=np.float64), classes=meta["classes"], meta=meta,
                       floor=float(meta.get("floor", LOG_FLOOR)), **au_args)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"cannot load the face pool from {p}: {exc}") from exc

    def to_json(self) -> dict:
        out = {"classes": self.classes, "w_fer": self.w_fer, "w_facex": self.w_facex,
               "bias": [float(v) for v in self.bias], "floor": self.floor, "au": None}
        if self.uses_au:
            out["au"] = {"mean": self.au_mean.tolist(), "std": self.au_std.tolist(),
                         "weights": self.au_weights.tolist()}
        return out

    def save(self, path: str | Path, extra: dict | None = None) -> None:
        """Write ``pool.json`` (``extra`` first, then the pool's numbers) to ``path`` or into that folder."""
        p = Path(path)
        p = p / self.FILE if p.suffix != ".json" else p
        p.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(extra or {})
        meta.update(self.to_json())
        atomic_write_text(p, json.dumps(meta, indent=1) + "\n")

    def logits(self, fer_lp: np.ndarray, facex_lp: np.ndarray,
               au_raw: np.ndarray | None = None) -> np.ndarray:
        """(n, 7) log-probabilities of each model (canonical order, floored at 1e-4 or more) [+ (n, 15) AU
        measures] -> (n, 7) logits."""
        lo = np.log(self.floor)
        z = (self.w_fer * np.maximum(np.atleast_2d(fer_lp), lo)
             + self.w_facex * np.maximum(np.atleast_2d(facex_lp), lo) + self.bias)
        if self.uses_au:
            if au_raw is None:
                raise ModelError("this face pool needs the AU-like measures")
            z = z + ((np.atleast_2d(au_raw) - self.au_mean) / self.au_std) @ self.au_weights
        return z

    def predict_proba(self, fer_lp: np.ndarray, facex_lp: np.ndarray,
                      au_raw: np.ndarray | None = None) -> np.ndarray:
        z = self.logits(fer_lp, facex_lp, au_raw)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def scores(self, fer_scores: dict[str, float], facex_scores: dict[str, float],
               au_raw: np.ndarray | None = None) -> dict[str, float]:
        """One face's fer and facex probabilities (by canonical label) [+ AU measures] -> pooled ones."""
        p = self.predict_proba(log_probabilities(fer_scores), log_probabilities(facex_scores), au_raw)[0]
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}


class NetPool:
    """A log-linear pool of the FER+ network (its prior-corrected canonical probabilities), fer and facex::

        z_c = sum_m w_m * log max(p_m(c), floor) + bias_c,   p = softmax(z)

    with weights >= 0 for ``net``, ``fer`` and ``facex`` (facex need not run when its weight is 0).
    Shipped as ``net_pool.json`` (plain numbers; written by ``python -m emoreason.training.ferplus.pool``,
    fitted on FER+ valid)::

        {"classes": [7 canonical labels], "weights": {"net": a, "fer": b, "facex": c}, "bias": [7],
         "floor": f, "use_by_default": true, ...metrics}
    """

    FILE = "net_pool.json"
    MODELS = ("net", "fer", "facex")

    def __init__(self, weights: dict[str, float], bias: np.ndarray, floor: float = 0.05,
                 classes: list[str] | None = None, meta: dict | None = None) -> None:
        if list(classes or CANONICAL) != list(CANONICAL):
            raise ModelError(f"face net pool must list the canonical classes in order, got {classes}")
        if set(weights) != set(self.MODELS) or not all(np.isfinite(v) and v >= 0 for v in weights.values()):
            raise ModelError(f"face net pool weights must be finite and >= 0 for {self.MODELS}: {weights}")
        bias = np.asarray(bias, dtype=np.float64)
        if bias.shape != (len(CANONICAL),) or not np.all(np.isfinite(bias)):
            raise ModelError(f"face net pool bias must be {len(CANONICAL)} finite numbers")
        if not (np.isfinite(floor) and LOG_FLOOR <= floor < 1.0 / 7):
            raise ModelError(f"face net pool floor must lie in [1e-4, 1/7), got {floor}")
        self.weights = {m: float(weights[m]) for m in self.MODELS}
        self.bias, self.floor, self.meta = bias, float(floor), meta or {}

    @property
    def uses_facex(self) -> bool:
        return self.weights["facex"] > 0

    @classmethod
    def load(cls, path: str | Path) -> NetPool:
        """``path``: ``net_pool.json`` or the folder holding it."""
        p = Path(path)
        p = p / cls.FILE if p.is_dir() else p
        try:
            meta = json.loads(p.read_text(encoding="utf-8"))
            return cls(dict(meta["weights"]), np.asarray(meta["bias"], dtype=np.float64),
                       float(meta["floor"]), meta["classes"], meta)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"cannot load the face net pool from {p}: {exc}") from exc

    def save(self, path: str | Path, extra: dict | None = None) -> None:
        """Write ``net_pool.json`` (``extra`` first, then the pool's numbers) into the folder ``path``."""
        meta = dict(extra or {})
        meta.update({"classes": list(CANONICAL), "weights": self.weights, "bias": self.bias.tolist(),
                     "floor": self.floor})
        atomic_write_text(Path(path) / self.FILE, json.dumps(meta, indent=1) + "\n")

    def predict_proba(self, log_probs: dict[str, np.ndarray]) -> np.ndarray:
        """``log_probs``: (n, 7) log-probabilities by model name (canonical order; models with weight 0
        may be missing) -> (n, 7) pooled probabilities."""
        z = np.tile(self.bias, (len(next(iter(log_probs.values()))), 1))
        for m, w in self.weights.items():
            if w > 0:
                z = z + w * np.maximum(np.atleast_2d(log_probs[m]), np.log(self.floor))
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def scores(self, scores_by_model: dict[str, dict[str, float] | None]) -> dict[str, float]:
        """One face's probabilities by model and canonical label -> pooled probabilities."""
        lp = {m: log_probabilities(s)[None] for m, s in scores_by_model.items() if s is not None}
        p = self.predict_proba(lp)[0]
        return {c: float(v) for c, v in zip(CANONICAL, p, strict=True)}
