"""The face stage's own expression network (trained on FER+), run with onnxruntime.

:class:`ExpressionNet` runs ``assets/models/face/ferplus_net.onnx`` (trained by
:mod:`emoreason.training.ferplus.train`) on a 48x48 grey crop of the face
(:func:`net_crop`: :func:`~emoreason.perception.face.crops.face_crop_gray`'s framing at 48 px) and on
its mirror image, and averages the two. The network's ten outputs are FER+'s classes
(:data:`FERPLUS_CLASSES`): eight emotions, "unknown" and "NF" (not a face). :func:`canonical_scores` maps
the emotions onto the canonical labels -- contempt has none and is left out, the rest renormalised -- and
returns P(unknown) + P(NF) separately as the crop's *unreadable* probability, which the face stage uses to
lower the face's reliability. FER+'s emotions are unbalanced (neutral and happiness hold 2/3 of the votes);
the model's JSON holds the emotions' share of FER+ train's votes (``prior``) and a power ``prior_power``
chosen on FER+ valid: :meth:`ExpressionNet.scores` divides each emotion's probability by its prior to that
power before renormalising (0: the network's own probabilities).

One onnxruntime session per model file per process (:meth:`ExpressionNet.load` caches it), on one
intra-op thread; ``run`` may be called from several threads at once (onnxruntime's ``run`` is
thread-safe). onnxruntime is imported when a model is loaded, not with this module.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.crops import FER_MARGIN, GrayFrame, face_crop_gray

NET_FILE = "ferplus_net.onnx"
NET_META = "ferplus_net.json"
#: The network's outputs, in the FER+ vote CSVs' column order.
FERPLUS_CLASSES: tuple[str, ...] = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                                    "contempt", "unknown", "NF")
#: FER+'s emotions as canonical labels (contempt: none).
FERPLUS_TO_CANONICAL: dict[str, str | None] = {
    "neutral": "neutral", "happiness": "happy", "surprise": "surprised", "sadness": "sad", "anger": "angry",
    "disgust": "disgusted", "fear": "fearful", "contempt": None}
NET_SIZE = 48
#: The crop's margin around the mesh (fraction of its size on every side): fer's; of margins 0-0.20 its
#: mean crop is among the two closest to FER+'s mean face (docs/model_cards/face.md, "Its crop").
NET_MARGIN = FER_MARGIN

_SESSIONS: dict[Path, ExpressionNet] = {}
_LOCK = threading.Lock()


def net_crop(rgb: np.ndarray | GrayFrame, points: np.ndarray) -> np.ndarray:
    """The network's input crop: a 48x48 uint8 grey square around the face mesh (see ``face_crop_gray``;
    ``rgb``: the RGB frame or its ``GrayFrame``)."""
    return face_crop_gray(rgb, points, margin=NET_MARGIN, size=NET_SIZE)


def canonical_scores(probs: np.ndarray, prior: np.ndarray | None = None,
                     power: float = 0.0) -> tuple[dict[str, float], float]:
    """The network's ten probabilities -> (probabilities by canonical label, summing to 1; P(unknown) +
    P(NF)). With ``prior`` (the eight emotions' prior probabilities) each emotion's probability is first
    divided by ``prior ** power``. All-zero canonical emotions give a uniform distribution and 1.0."""
    p = np.asarray(probs, dtype=np.float64)
    emotions = p[:len(FERPLUS_TO_CANONICAL)]
    if prior is not None and power:
        emotions = emotions / np.asarray(prior, dtype=np.float64) ** power
    scores = dict.fromkeys(CANONICAL, 0.0)
    for name, v in zip(FERPLUS_TO_CANONICAL, emotions, strict=True):
        canon = FERPLUS_TO_CANONICAL.get(name)
        if canon is not None:
            scores[canon] += float(v)
    total = sum(scores.values())
    if total <= 0:
        return dict.fromkeys(CANONICAL, 1.0 / len(CANONICAL)), 1.0
    unreadable = float(p[FERPLUS_CLASSES.index("unknown")] + p[FERPLUS_CLASSES.index("NF")])
    return {c: v / total for c, v in scores.items()}, unreadable


class ExpressionNet:
    """The FER+ network in an onnxruntime session. ``run(crop)`` -> its ten probabilities."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"the face expression network is missing: {path}")
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path), sess_options=opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad file
            raise ModelError(f"cannot load the face expression network from {path}: {exc}") from exc
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or list(inputs[0].shape[1:]) != [1, NET_SIZE, NET_SIZE] \
                or outputs[0].shape[-1] != len(FERPLUS_CLASSES):
            raise ModelError(f"{path} does not look like the FER+ network: input {inputs[0].shape}, "
                             f"output {outputs[0].shape}")
        self._input = inputs[0].name
        self.path = path
        meta = path.with_name(NET_META)
        self.meta = json.loads(meta.read_text()) if meta.is_file() else {}
        self.prior = np.asarray(self.meta.get("prior", np.ones(len(FERPLUS_TO_CANONICAL))), dtype=np.float64)
        self.prior_power = float(self.meta.get("prior_power", 0.0))
        if self.prior.shape != (len(FERPLUS_TO_CANONICAL),) or not (self.prior > 0).all():
            raise ModelError(f"{meta} holds no valid prior: eight positive numbers expected")

    @classmethod
    def load(cls, path: str | Path) -> ExpressionNet:
        """The process's one session for the model file ``path``."""
        key = Path(path).resolve()
        with _LOCK:
            if key not in _SESSIONS:
                _SESSIONS[key] = cls(key)
            return _SESSIONS[key]

    def scores(self, probs: np.ndarray) -> tuple[dict[str, float], float]:
        """:func:`canonical_scores` of the network's ``probs`` with this model's prior and power."""
        return canonical_scores(probs, self.prior, self.prior_power)

    def run(self, crop: np.ndarray) -> np.ndarray:
        """A 48x48 uint8 grey crop -> the ten probabilities (:data:`FERPLUS_CLASSES` order), averaged over
        the crop and its mirror image."""
        crop = np.asarray(crop)
        if crop.shape != (NET_SIZE, NET_SIZE):
            raise ValueError(f"expected a {NET_SIZE}x{NET_SIZE} grey crop, got shape {crop.shape}")
        x = crop.astype(np.float32) / 255.0
        batch = np.stack([x, x[:, ::-1]])[:, None]
        logits = self._session.run(None, {self._input: np.ascontiguousarray(batch)})[0].astype(np.float64)
        e = np.exp(logits - logits.max(1, keepdims=True))
        return (e / e.sum(1, keepdims=True)).mean(0)
