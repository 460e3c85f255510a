"""Expression classifiers for one face: fer's FER2013 tflite model, and our trained head on top of it.

* :class:`FerClassifier` runs ``assets/fer/emotion_model_quantized.tflite`` (from the ``fer`` package,
  MIT, trained on FER2013) through ``ai_edge_litert``: a 64x64 grey square crop around the
  mesh with a 10 % margin, scaled to -1..1. It returns FER2013's 7 probabilities mapped onto canonical labels
  and its 128-d penultimate features (the global average of the last residual block).
* :class:`ExpressionHead` is a softmax regression on standardised features (AU-like geometry, face
  shape, fer's log-probabilities and features) shipped as ``head.json`` + ``.npy``
  arrays in ``assets/models/face/`` and evaluated with numpy (no pickle).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face_mesh import check_rgb

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FER_MODEL = ASSETS / "fer" / "emotion_model_quantized.tflite"
DEFAULT_FACE_MODEL_DIR = ASSETS / "models" / "face"
#: FER2013's class order in fer's model, mapped to canonical labels.
FER_CLASSES: tuple[str, ...] = ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral")
_FER_FEATURE_TENSOR = "model_1_1/add_4_1/Add"
#: Margin around the mesh's box on every side (fraction of its size) and whether to level the eyes:
#: chosen on 1,500 facial_expressions photos (fer alone, UAR: margin 0.10 0.48, 0.15 0.42, 0.25 0.39;
#: levelling the eyes 0.45 vs 0.48 unlevelled -- FER2013's own crops are not levelled).
FER_MARGIN = 0.10
FER_ALIGN = False
FER_SIZE = 64


def face_crop_gray(rgb: np.ndarray, points: np.ndarray, margin: float = FER_MARGIN, size: int = FER_SIZE,
                   align: bool = FER_ALIGN) -> np.ndarray:
    """A ``size`` x ``size`` uint8 grey square crop of the face (rotated so the eyes are level if ``align``)."""
    import cv2

    check_rgb(rgb)
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    eye_r = (pts[33] + pts[133]) / 2
    eye_l = (pts[263] + pts[362]) / 2
    angle = float(np.degrees(np.arctan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0]))) if align else 0.0
    center = (pts.min(0) + pts.max(0)) / 2
    rot = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), angle, 1.0)
    rotated = pts @ rot[:, :2].T + rot[:, 2]
    lo, hi = rotated.min(0), rotated.max(0)
    side = float(max(hi - lo)) * (1.0 + 2.0 * margin)
    c = (lo + hi) / 2
    # map the square [c - side/2, c + side/2] of the rotated image onto size x size, in one warp
    s = size / side
    m = rot * s
    m[:, 2] += -np.array([c[0] - side / 2, c[1] - side / 2]) * s
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.warpAffine(gray, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


class FerClassifier:
    """fer's FER2013 mini-Xception (quantized tflite). ``predict`` -> (canonical probs, 128-d features)."""

    def __init__(self, model_path: str | Path = FER_MODEL) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"fer's expression model is missing: {path}")
        from ai_edge_litert.interpreter import Interpreter

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the "preserve_all_tensors is for debugging" notice
            self._it = Interpreter(model_path=str(path), num_threads=1, experimental_preserve_all_tensors=True)
        self._it.allocate_tensors()
        self._in = self._it.get_input_details()[0]["index"]
        self._out = self._it.get_output_details()[0]["index"]
        names = {t["name"]: t["index"] for t in self._it.get_tensor_details()}
        if _FER_FEATURE_TENSOR not in names:
            raise ModelError(f"{path} does not look like fer's model (no tensor {_FER_FEATURE_TENSOR})")
        self._feat = names[_FER_FEATURE_TENSOR]

    def predict(self, crop64: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
        x = (crop64.astype(np.float32) / 255.0 - 0.5) * 2.0
        self._it.set_tensor(self._in, x[None, :, :, None])
        self._it.invoke()
        p = np.asarray(self._it.get_tensor(self._out)[0], dtype=np.float64)
        feats = np.asarray(self._it.get_tensor(self._feat)[0], dtype=np.float64).mean(axis=(0, 1))
        p = np.clip(p, 0.0, None)
        p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / len(p))
        scores = dict.fromkeys(CANONICAL, 0.0)
        for name, v in zip(FER_CLASSES, p, strict=True):
            scores[name] = float(v)
        return scores, feats


def fer_vector(scores: dict[str, float]) -> np.ndarray:
    return np.array([scores[c] for c in CANONICAL], dtype=np.float64)


class ExpressionHead:
    """Softmax regression over named feature blocks, loaded from ``head.json`` + ``.npy`` arrays.

    ``head.json``: ``{"classes": [...], "blocks": ["au", "shape", "fer_logp", "fer_feat"], "mean": "mean.npy",
    "std": "std.npy", "weights": "weights.npy", "bias": "bias.npy", ...metrics}``.
    """

    BLOCKS = ("au", "shape", "fer_logp", "fer_feat")

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
            meta = json.loads((d / "head.json").read_text(encoding="utf-8"))
            arrays = {k: np.load(d / meta[k], allow_pickle=False) for k in ("mean", "std", "weights", "bias")}
            return cls(meta["classes"], meta["blocks"], meta=meta, **arrays)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load the face head from {d}: {exc}") from exc

    def save(self, model_dir: str | Path, extra: dict | None = None) -> None:
        from emoreason.io.atomic import atomic_write, atomic_write_text

        d = Path(model_dir)
        d.mkdir(parents=True, exist_ok=True)
        meta = dict(extra or {})
        meta.update({"classes": self.classes, "blocks": self.blocks, "mean": "mean.npy", "std": "std.npy",
                     "weights": "weights.npy", "bias": "bias.npy"})
        for key in ("mean", "std", "weights", "bias"):
            with atomic_write(d / f"{key}.npy", "wb") as f:
                np.save(f, getattr(self, key).astype(np.float32), allow_pickle=False)
        atomic_write_text(d / "head.json", json.dumps(meta, indent=1) + "\n")

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, d) features in :attr:`blocks` order -> (n, classes) probabilities."""
        z = ((np.atleast_2d(x) - self.mean) / self.std) @ self.weights + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def scores(self, features: dict[str, np.ndarray]) -> dict[str, float]:
        x = np.concatenate([np.asarray(features[b], dtype=np.float64).reshape(-1) for b in self.blocks])
        p = self.predict_proba(x)[0]
        out = dict.fromkeys(CANONICAL, 0.0)
        out.update({c: float(v) for c, v in zip(self.classes, p, strict=True)})
        return out


def fer_logp(scores: dict[str, float]) -> np.ndarray:
    return np.log(np.clip(fer_vector(scores), 1e-4, 1.0))
