"""Expression classifiers for one face: fer's FER2013 tflite model, and our trained head on top of it.

* :class:`FerClassifier` runs ``assets/fer/emotion_model_quantized.tflite`` (from the ``fer`` package,
  MIT, trained on FER2013) through ``ai_edge_litert``: a 64x64 grey square crop around the
  mesh with a 10 % margin, scaled to -1..1. It returns FER2013's 7 probabilities mapped onto canonical labels
  and its 128-d penultimate features (the global average of the last residual block).
* :class:`FacexClassifier` runs ``assets/facex/model_optimized.tflite`` (from the ``facex`` package,
  MIT, training data not stated) through ``ai_edge_litert``: a square grey crop around the mesh, resized
  to 200x200 the way scikit-image's ``resize`` does it (Gaussian anti-aliasing, then bilinear), values in
  0..1 on 3 channels. It returns facex's 7 probabilities mapped onto canonical labels.
* :class:`ExpressionHead` is a softmax regression on standardised features (AU-like geometry, face
  shape, fer's log-probabilities and features) shipped as ``head.json`` + ``.npy``
  arrays in ``assets/models/face/`` and evaluated with numpy (no pickle).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from emoreason.assets import asset_path, model_dir
from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.mesh import check_rgb

FER_MODEL = asset_path("fer", "emotion_model_quantized.tflite")
DEFAULT_FACE_MODEL_DIR = model_dir("face")
#: FER2013's class order in fer's model, mapped to canonical labels.
FER_CLASSES: tuple[str, ...] = ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral")
_FER_FEATURE_TENSOR = "model_1_1/add_4_1/Add"
#: Margin around the mesh's box on every side (fraction of its size) and whether to level the eyes:
#: chosen on 1,500 facial_expressions photos (fer alone, UAR: margin 0.10 0.48, 0.15 0.42, 0.25 0.39;
#: levelling the eyes 0.45 vs 0.48 unlevelled -- FER2013's own crops are not levelled).
FER_MARGIN = 0.10
FER_ALIGN = False
FER_SIZE = 64
FACEX_MODEL = asset_path("facex", "model_optimized.tflite")
#: facex's class order (``anger, disgust, fear, happy, neutral, sadness, surprised``) as canonical labels.
FACEX_CLASSES: tuple[str, ...] = ("angry", "disgusted", "fearful", "happy", "neutral", "sad", "surprised")
FACEX_SIZE = 200
#: facex's own pipeline crops OpenCV's Haar box; ours is the mesh's box made square, with this margin on
#: every side (fraction of its size) and moved down by ``FACEX_SHIFT`` x its side. Chosen on the
#: facial_expressions photos (see docs/model_cards/face.md, "facex's crop").
FACEX_MARGIN = 0.10
FACEX_SHIFT = 0.0
#: A crop whose grey levels span less than this (1st to 99th percentile) is dark or flat -- under-exposed,
#: back-lit, hazy -- and is stretched onto 0..255 before the expression models (``stretch_flat``). In a
#: sample of 300 facial_expressions photos, 1 % of fer's crops spanned less than 122 levels; the same photos
#: under-exposed (benchmarks/face_conditions.py's "dark") 38-63. A rule of thumb.
FLAT_CROP_RANGE = 100.0


def stretch_flat(crop: np.ndarray, flat_range: float = FLAT_CROP_RANGE) -> np.ndarray:
    """``crop`` (uint8) with its 1st-99th percentile grey levels mapped onto 0..255 when they span less
    than ``flat_range`` levels (and at least 1); otherwise unchanged. ``flat_range=0`` never stretches."""
    lo, hi = np.percentile(crop, [1, 99])
    if hi - lo < 1 or hi - lo >= flat_range:
        return crop
    return np.clip(np.round((crop.astype(np.float64) - lo) * 255.0 / (hi - lo)), 0, 255).astype(np.uint8)


def face_crop_gray(rgb: np.ndarray, points: np.ndarray, margin: float = FER_MARGIN, size: int = FER_SIZE,
                   align: bool = FER_ALIGN, flat_range: float = FLAT_CROP_RANGE) -> np.ndarray:
    """A ``size`` x ``size`` uint8 grey square crop of the face (rotated so the eyes are level if ``align``),
    contrast-stretched if it is flat (:func:`stretch_flat`)."""
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
    crop = cv2.warpAffine(gray, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return stretch_flat(crop, flat_range)


def face_square_gray(rgb: np.ndarray, points: np.ndarray, margin: float = FACEX_MARGIN,
                     shift: float = FACEX_SHIFT, flat_range: float = FLAT_CROP_RANGE) -> np.ndarray:
    """The grey square around the mesh (``margin`` on every side, moved down by ``shift`` x side), at the
    image's own resolution, padded by repeating the edge where it leaves the image, contrast-stretched if
    it is flat (:func:`stretch_flat`)."""
    import cv2

    check_rgb(rgb)
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    lo, hi = pts.min(0), pts.max(0)
    side = max(2, int(round(float(max(hi - lo)) * (1.0 + 2.0 * margin))))
    cx, cy = (lo + hi) / 2 + np.array([0.0, shift * side])
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = rgb.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if xa >= xb or ya >= yb:
        raise ValueError("the face square lies outside the image")
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[ya:yb, xa:xb]), cv2.COLOR_RGB2GRAY)
    pads = ((ya - y0, y0 + side - yb), (xa - x0, x0 + side - xb))
    square = np.pad(gray, pads, mode="edge") if any(p for pair in pads for p in pair) else gray
    return stretch_flat(square, flat_range)


def resize_like_skimage(gray: np.ndarray, size: int = FACEX_SIZE) -> np.ndarray:
    """``skimage.transform.resize(gray, (size, size))`` with OpenCV: float32 in 0..1 (uint8 input is
    divided by 255), Gaussian anti-aliasing with sigma = (scale - 1) / 2 per axis when shrinking
    (truncated at 4 sigma, mirrored edges), then bilinear interpolation on pixel centres."""
    import cv2

    img = np.asarray(gray)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    if img.ndim != 2 or min(img.shape) < 1:
        raise ValueError(f"expected a 2-D grey image, got shape {img.shape}")
    sig = [max(0.0, (n / size - 1.0) / 2.0) for n in img.shape]  # (rows, columns)
    if max(sig) > 0:
        def kernel(s: float) -> np.ndarray:
            if s <= 0:
                return np.ones((1, 1), np.float32)
            r = int(4.0 * s + 0.5)
            k = np.exp(-0.5 * (np.arange(-r, r + 1) / s) ** 2)
            return (k / k.sum()).astype(np.float32).reshape(-1, 1)

        img = cv2.sepFilter2D(img, -1, kernel(sig[1]), kernel(sig[0]), borderType=cv2.BORDER_REFLECT_101)
    if min(img.shape) >= size:  # OpenCV's bilinear is skimage's when no output pixel maps outside the image
        return cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
    # enlarging: skimage mirrors the image at its edges; interpolation matrices do the same
    return (_bilinear_matrix(img.shape[0], size) @ img @ _bilinear_matrix(img.shape[1], size).T).astype(np.float32)


def _bilinear_matrix(n: int, size: int) -> np.ndarray:
    """(size, n) matrix of bilinear weights from n pixel centres to size, mirrored beyond the edges."""
    src = (np.arange(size) + 0.5) * (n / size) - 0.5
    i0 = np.floor(src).astype(int)
    frac = src - i0
    m = np.zeros((size, n), np.float32)
    for idx, wgt in ((i0, 1.0 - frac), (i0 + 1, frac)):
        if n > 1:  # mirror (gfedcb|abcdefgh|gfedcba), folded until inside
            period = 2 * (n - 1)
            idx = np.abs(np.mod(idx, period))
            idx = np.where(idx > n - 1, period - idx, idx)
        else:
            idx = np.zeros_like(idx)
        np.add.at(m, (np.arange(size), idx), wgt)
    return m


def _interpreter(path: Path, what: str, **kwargs):
    if not path.is_file():
        raise ModelError(f"{what} is missing: {path}")
    from ai_edge_litert.interpreter import Interpreter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the "preserve_all_tensors is for debugging" notice
            it = Interpreter(model_path=str(path), num_threads=1, **kwargs)
        it.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load {what} from {path}: {exc}") from exc
    return it


class FacexClassifier:
    """facex's expression model (tflite, 200x200x3 in). ``predict(crop)`` -> canonical probabilities,
    where ``crop`` is a grey square of any size (see :func:`face_square_gray`)."""

    def __init__(self, model_path: str | Path = FACEX_MODEL) -> None:
        path = Path(model_path)
        self._it = _interpreter(path, "facex's expression model")
        inp, out = self._it.get_input_details()[0], self._it.get_output_details()[0]
        if tuple(inp["shape"]) != (1, FACEX_SIZE, FACEX_SIZE, 3) or tuple(out["shape"]) != (1, len(FACEX_CLASSES)):
            raise ModelError(f"{path} does not look like facex's model: input {tuple(inp['shape'])}, "
                             f"output {tuple(out['shape'])}")
        self._in, self._out = inp["index"], out["index"]

    @staticmethod
    def preprocess(crop: np.ndarray) -> np.ndarray:
        """Grey square (uint8) -> the model's 1x200x200x3 float32 input in 0..1."""
        x = resize_like_skimage(crop, FACEX_SIZE)
        return np.ascontiguousarray(np.repeat(x[None, :, :, None], 3, axis=3))

    def predict_raw(self, crop: np.ndarray) -> np.ndarray:
        """The model's 7 outputs in facex's own order (:data:`FACEX_CLASSES`)."""
        self._it.set_tensor(self._in, self.preprocess(crop))
        self._it.invoke()
        return np.asarray(self._it.get_tensor(self._out)[0], dtype=np.float64)

    def predict(self, crop: np.ndarray) -> dict[str, float]:
        p = np.clip(self.predict_raw(crop), 0.0, None)
        p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / len(p))
        scores = dict.fromkeys(CANONICAL, 0.0)
        for name, v in zip(FACEX_CLASSES, p, strict=True):
            scores[name] = float(v)
        return scores


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


def facex_logp(scores: dict[str, float]) -> np.ndarray:
    return np.log(np.clip(fer_vector(scores), 1e-4, 1.0))


class ExpressionPool:
    """Weighted log-linear pool of fer's and facex's probabilities, with per-class biases and, optionally,
    a small linear term on the standardised AU-like measures::

        z_c = w_fer * log p_fer(c) + w_facex * log p_facex(c) + bias_c [+ ((au - mean) / std) @ au_weights[:, c]]
        p = softmax(z)

    Each model's probabilities are floored at ``floor`` before the log (so one over-confident model
    cannot veto a class on its own). Loaded from ``pool.json`` (plain numbers, no pickle):
    ``{"classes": [7 canonical labels], "w_fer": a, "w_facex": b, "bias": [7], "floor": f, "au": null or
    {"mean": [15], "std": [15], "weights": [15 x 7]}, ...metrics}``. Both weights are >= 0.
    """

    FILE = "pool.json"

    def __init__(self, w_fer: float, w_facex: float, bias: np.ndarray, classes: list[str] | None = None,
                 au_mean: np.ndarray | None = None, au_std: np.ndarray | None = None,
                 au_weights: np.ndarray | None = None, meta: dict | None = None, floor: float = 1e-4) -> None:
        classes = list(classes or CANONICAL)
        if not (np.isfinite(floor) and 1e-4 <= floor < 1.0 / 7):
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
                raise ModelError(f"face pool AU arrays do not fit: mean {m.shape}, std {s.shape}, weights {w.shape}")
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
            return cls(float(meta["w_fer"]), float(meta["w_facex"]), np.asarray(meta["bias"], dtype=np.float64),
                       classes=meta["classes"], meta=meta, floor=float(meta.get("floor", 1e-4)), **au_args)
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
        from emoreason.io.atomic import atomic_write_text

        p = Path(path)
        p = p / self.FILE if p.suffix != ".json" else p
        p.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(extra or {})
        meta.update(self.to_json())
        atomic_write_text(p, json.dumps(meta, indent=1) + "\n")

    def logits(self, fer_lp: np.ndarray, facex_lp: np.ndarray, au_raw: np.ndarray | None = None) -> np.ndarray:
        """(n, 7) log-probabilities of each model (canonical order, floored at 1e-4 or more) [+ (n, 15) AU
        measures] -> (n, 7) logits."""
        lo = np.log(self.floor)
        z = (self.w_fer * np.maximum(np.atleast_2d(fer_lp), lo) + self.w_facex * np.maximum(np.atleast_2d(facex_lp), lo)
             + self.bias)
        if self.uses_au:
            if au_raw is None:
                raise ModelError("this face pool needs the AU-like measures")
            z = z + ((np.atleast_2d(au_raw) - self.au_mean) / self.au_std) @ self.au_weights
        return z

    def predict_proba(self, fer_lp: np.ndarray, facex_lp: np.ndarray, au_raw: np.ndarray | None = None) -> np.ndarray:
        z = self.logits(fer_lp, facex_lp, au_raw)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def scores(self, fer_scores: dict[str, float], facex_scores: dict[str, float],
               au_raw: np.ndarray | None = None) -> dict[str, float]:
        p = self.predict_proba(fer_logp(fer_scores), facex_logp(facex_scores), au_raw)[0]
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}
