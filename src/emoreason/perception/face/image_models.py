"""The two pretrained image models that read a face crop, run through ``ai_edge_litert``.

* :class:`FerClassifier` runs ``assets/fer/emotion_model_quantized.tflite`` (from the ``fer`` package,
  MIT, trained on FER2013) on a 64x64 grey crop (:func:`~emoreason.perception.face.crops.face_crop_gray`)
  scaled to -1..1. It returns FER2013's 7 probabilities mapped onto canonical labels and its 128-d
  penultimate features (the global average of the last residual block).
* :class:`FacexClassifier` runs ``assets/facex/model_optimized.tflite`` (from the ``facex`` package,
  MIT, training data not stated) on a grey square
  (:func:`~emoreason.perception.face.crops.face_square_gray`) resized to 200x200 like scikit-image,
  values in 0..1 on 3 channels. It returns facex's 7 probabilities mapped onto canonical labels.

Interpreters are kept per thread (:func:`_interpreter`): every classifier made in one thread shares that
thread's interpreter of its model (``predict`` holds no state between calls), so a thread that analyses
many clips or photos loads each model once, and no interpreter is used by two threads. TFLite's log lines
from loading a model and from its first run are kept off stderr
(:mod:`emoreason.perception.native_log`).

``ai_edge_litert`` (the tflite runtime) is imported when a model is loaded, not with this module.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np

from emoreason.assets import asset_path
from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.crops import FACEX_SIZE, resize_like_skimage
from emoreason.perception.native_log import quiet_native_logs

FER_MODEL = asset_path("fer", "emotion_model_quantized.tflite")
#: FER2013's class order in fer's model, mapped to canonical labels.
FER_CLASSES: tuple[str, ...] = ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral")
_FER_FEATURE_TENSOR = "model_1_1/add_4_1/Add"
FACEX_MODEL = asset_path("facex", "model_optimized.tflite")
#: facex's class order (``anger, disgust, fear, happy, neutral, sadness, surprised``) as canonical labels.
FACEX_CLASSES: tuple[str, ...] = ("angry", "disgusted", "fearful", "happy", "neutral", "sad", "surprised")
#: Probabilities are floored here before their log (:func:`log_probabilities`).
LOG_FLOOR = 1e-4


def log_probabilities(scores: dict[str, float]) -> np.ndarray:
    """Canonical-label probabilities (CANONICAL order) floored at :data:`LOG_FLOOR`, as logs: the
    ``fer_logp`` / ``facex_logp`` features of the pool and the head."""
    return np.log(np.clip(np.array([scores[c] for c in CANONICAL], dtype=np.float64), LOG_FLOOR, 1.0))


def _canonical_scores(outputs: np.ndarray, classes: tuple[str, ...]) -> dict[str, float]:
    """A model's outputs in its own class order -> probabilities (clipped at 0, summing to 1) by
    canonical label; all-zero outputs give a uniform distribution."""
    p = np.clip(outputs, 0.0, None)
    p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / len(p))
    scores = dict.fromkeys(CANONICAL, 0.0)
    for name, v in zip(classes, p, strict=True):
        scores[name] = float(v)
    return scores


_cache = threading.local()


def _interpreter(path: Path, what: str, **kwargs):
    """This thread's loaded, allocated, once-run tflite interpreter of ``path`` (one CPU thread; made on
    first use); ModelError when the file is missing or bad."""
    if not path.is_file():
        raise ModelError(f"{what} is missing: {path}")
    key = (str(path.resolve()), path.stat().st_mtime_ns, tuple(sorted(kwargs.items())))
    loaded = getattr(_cache, "loaded", None)
    if loaded is None:
        loaded = _cache.loaded = {}
    if key not in loaded:
        loaded[key] = _load_interpreter(path, what, **kwargs)
    return loaded[key]


def _load_interpreter(path: Path, what: str, **kwargs):
    from ai_edge_litert.interpreter import Interpreter

    try:
        with warnings.catch_warnings(), quiet_native_logs():
            warnings.simplefilter("ignore")  # the "preserve_all_tensors is for debugging" notice
            it = Interpreter(model_path=str(path), num_threads=1, **kwargs)
            it.allocate_tensors()
            for d in it.get_input_details():  # the first run, whose delegate set-up logs a line
                it.set_tensor(d["index"], np.zeros(d["shape"], dtype=d["dtype"]))
            it.invoke()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load {what} from {path}: {exc}") from exc
    return it


class FerClassifier:
    """fer's FER2013 mini-Xception (quantized tflite). ``predict`` -> (canonical probs, 128-d features)."""

    def __init__(self, model_path: str | Path = FER_MODEL) -> None:
        path = Path(model_path)
        self._it = _interpreter(path, "fer's expression model", experimental_preserve_all_tensors=True)
        self._in = self._it.get_input_details()[0]["index"]
        self._out = self._it.get_output_details()[0]["index"]
        names = {t["name"]: t["index"] for t in self._it.get_tensor_details()}
        if _FER_FEATURE_TENSOR not in names:
            raise ModelError(f"{path} does not look like fer's model (no tensor {_FER_FEATURE_TENSOR})")
        self._feat = names[_FER_FEATURE_TENSOR]

    def predict(self, crop64: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
        """A 64x64 uint8 grey crop -> (canonical probabilities, 128-d penultimate features)."""
        x = (crop64.astype(np.float32) / 255.0 - 0.5) * 2.0
        self._it.set_tensor(self._in, x[None, :, :, None])
        self._it.invoke()
        p = np.asarray(self._it.get_tensor(self._out)[0], dtype=np.float64)
        feats = np.asarray(self._it.get_tensor(self._feat)[0], dtype=np.float64).mean(axis=(0, 1))
        return _canonical_scores(p, FER_CLASSES), feats


class FacexClassifier:
    """facex's expression model (tflite, 200x200x3 in). ``predict(crop)`` -> canonical probabilities, where
    ``crop`` is a grey square of any size (see :func:`~emoreason.perception.face.crops.face_square_gray`)."""

    def __init__(self, model_path: str | Path = FACEX_MODEL) -> None:
        path = Path(model_path)
        self._it = _interpreter(path, "facex's expression model")
        inp, out = self._it.get_input_details()[0], self._it.get_output_details()[0]
        expected = ((1, FACEX_SIZE, FACEX_SIZE, 3), (1, len(FACEX_CLASSES)))
        if (tuple(inp["shape"]), tuple(out["shape"])) != expected:
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
        """A grey square crop -> canonical probabilities."""
        return _canonical_scores(self.predict_raw(crop), FACEX_CLASSES)
