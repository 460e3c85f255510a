"""The shipped voice-emotion classifier: its config (``VoiceModelConfig``) and its arrays, evaluated in numpy.

A voice model folder holds ``config.json`` and ``voice_model.safetensors`` (plain float32 arrays). The model:

- three logistic regressions over one feature vector per speech segment: ``population`` (the features
  standardised with the training set's statistics; recordings of fewer than ``min_segments`` segments),
  ``recording`` (the features side by side with the same features z-scored within the recording) and
  ``speaker`` (the within-recording z-scores alone: the speaker normalisation of the field's protocols);
- a frame network (:mod:`emoreason.perception.voice.frames`) on the Whisper encoder states of each segment,
  whose probabilities are mixed with the regression's: ``(1 - frame_weight) x regression + frame_weight x
  frames``;
- the speaker gate: a recording goes to the speaker path (``speaker_lr_weight x speaker regression + (1 -
  speaker_lr_weight) x frames``) when it has at least ``speaker_min_segments`` segments and the population
  path's mean prediction over them spreads over at least ``speaker_min_effective`` classes
  (:func:`effective_classes`): z-scoring a recording that stays in one mood removes exactly that mood, so
  the speaker path is kept for recordings that look spread over many emotions. ``speaker_normalisation=
  "always"``/``"never"`` overrides the gate.

Probabilities over the model's classes are mapped to the canonical labels with the config's ``to_canonical``
(several classes may map to one label: their probabilities are summed).

``config.json`` is read by :func:`load_config`: :func:`upgrade_config` gives the keys that older model
folders lack their defaults (each default is how such a model ran), then :class:`VoiceModelConfig` holds
the values the classifier and the feature extractor need.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file

from emoreason.assets import model_dir
from emoreason.errors import ConfigError, ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.voice.frames import FRAME_KEYS, frame_proba
from emoreason.perception.voice.prosody import COLUMNS

MODEL_FILE = "voice_model.safetensors"
CONFIG_FILE = "config.json"
SPEAKER_NORMALISATION = ("auto", "always", "never")
VARIANTS = ("population", "recording", "speaker")
ZSCORE_EPS = 1e-6  # added to the standard deviation when z-scoring within a recording


def check_speaker_normalisation(value: object) -> str:
    """``value`` if it is one of :data:`SPEAKER_NORMALISATION`, else a ConfigError."""
    if value not in SPEAKER_NORMALISATION:
        raise ConfigError(f"speaker_normalisation must be one of {', '.join(SPEAKER_NORMALISATION)}, "
                          f"not {value!r}")
    return str(value)


def default_model_dir() -> Path:
    """The shipped voice model's folder."""
    return model_dir("voice")


def effective_classes(probs: np.ndarray) -> float:
    """exp(entropy) of the mean of the probability rows: 1 when every row names the same class with
    certainty, up to the number of classes when the rows spread evenly over them."""
    q = np.asarray(probs, dtype=np.float64).mean(axis=0)
    return float(np.exp(-(q * np.log(np.clip(q, 1e-12, None))).sum()))


def speaker_gate_opens(p_population: np.ndarray, min_segments: int,
                       min_effective: float) -> tuple[bool, float]:
    """The speaker gate's rule for one recording, from the population path's probabilities of its
    segments: (open, effective classes)."""
    eff = effective_classes(p_population)
    return len(p_population) >= min_segments and eff >= min_effective, eff


def zscore(x: np.ndarray) -> np.ndarray:
    """Every column z-scored over the rows (the segments of one recording)."""
    return (x - x.mean(axis=0)) / (x.std(axis=0) + ZSCORE_EPS)


def _with_zscores(x: np.ndarray) -> np.ndarray:
    """The recording classifier's input: the features, then their z-scores within the recording."""
    return np.hstack([x, zscore(x)])


def logistic_proba(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class probabilities of a multinomial logistic regression stored as ``mean``, ``scale`` (the input
    standardisation), ``coef`` and ``intercept``: one row per row of ``x``."""
    z = x - params["mean"]
    z /= params["scale"]  # in place: the same numbers as out of place, one temporary of x's size
    logits = z @ params["coef"].T + params["intercept"]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def upgrade_config(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of a voice model's ``config.json`` with every key that older model folders lack set to the
    default that reproduces how such a model ran:

    - ``features.whisper.layers``: ``[-1]``, the encoder's final states;
    - ``features.whisper.encoder``: ``"tiny.en"`` (:data:`~emoreason.perception.voice.embedding.ENCODERS`);
    - ``level_db``: ``None``, each segment's level as recorded;
    - ``tta_speeds``: ``[]``, no test-time speed views;
    - ``min_segments_recording``: 3;
    - ``frame_model``: ``None``, no frame network (and ``frame_model.layer``: -1, the final states);
    - ``speaker_model``: ``None``, no speaker path;
    - ``name``: ``"voice"``, ``version``: ``"?"``.

    An empty ``frame_model`` or ``speaker_model`` counts as absent. Keys the classifier cannot do without
    (``classes``, ``to_canonical``, ``features.prosody``, ``features.whisper.mode``, a frame model's
    ``weight``, a speaker model's three numbers) get no default: :func:`VoiceModelConfig.from_dict` fails
    on them. The file itself is never rewritten.
    """
    cfg = copy.deepcopy(raw)
    cfg.setdefault("name", "voice")
    cfg.setdefault("version", "?")
    cfg["features"]["whisper"].setdefault("layers", [-1])
    cfg["features"]["whisper"].setdefault("encoder", "tiny.en")
    cfg.setdefault("level_db", None)
    cfg.setdefault("tta_speeds", [])
    cfg.setdefault("min_segments_recording", 3)
    for key in ("frame_model", "speaker_model"):
        cfg[key] = cfg.get(key) or None
    if cfg["frame_model"] is not None:
        cfg["frame_model"].setdefault("layer", -1)
    return cfg


@dataclass(frozen=True)
class VoiceModelConfig:
    """What a voice model's ``config.json`` tells the classifier and the feature extractor."""

    classes: list[str]
    to_canonical: dict[str, str]
    prosody_columns: list[str]
    whisper_mode: str  # "exact" or "padded" (emoreason.perception.voice.embedding.MODES)
    whisper_encoder: str  # which Whisper's encoder (emoreason.perception.voice.embedding.ENCODERS)
    whisper_layers: list[int]  # encoder outputs pooled into the features (-1: the final states)
    with_mel: bool  # the features include the log-mel functionals
    min_segments: int  # recordings with fewer segments use the population classifier
    tta_speeds: list[float]  # test-time views: each segment also played at these speeds
    level_db: float | None  # each segment's active speech level is set to this before its features (dBFS)
    frame_weight: float  # the frame network's share of the mixture (0: no frame network)
    frame_layer: int  # the encoder output the frame network reads
    speaker_min_segments: int | None  # the speaker gate (None: the model has no speaker classifier)
    speaker_min_effective: float | None
    speaker_lr_weight: float  # the speaker regression's share of the speaker path
    name: str
    version: str

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> VoiceModelConfig:
        """The config of a parsed ``config.json``, upgraded by :func:`upgrade_config`; a missing required
        key is a KeyError, a value of the wrong kind a ValueError or TypeError."""
        cfg = upgrade_config(raw)
        whisper, frames, speaker = cfg["features"]["whisper"], cfg["frame_model"], cfg["speaker_model"]
        return cls(
            classes=list(cfg["classes"]),
            to_canonical=dict(cfg["to_canonical"]),
            prosody_columns=list(cfg["features"]["prosody"]),
            whisper_mode=whisper["mode"],
            whisper_encoder=str(whisper["encoder"]),
            whisper_layers=[int(i) for i in whisper["layers"]],
            with_mel="mel" in cfg["features"],
            min_segments=int(cfg["min_segments_recording"]),
            tta_speeds=[float(v) for v in cfg["tta_speeds"]],
            level_db=None if cfg["level_db"] is None else float(cfg["level_db"]),
            frame_weight=0.0 if frames is None else float(frames["weight"]),
            frame_layer=-1 if frames is None else int(frames["layer"]),
            speaker_min_segments=None if speaker is None else int(speaker["min_segments"]),
            speaker_min_effective=None if speaker is None else float(speaker["min_effective_classes"]),
            speaker_lr_weight=1.0 if speaker is None else float(speaker["lr_weight"]),
            name=str(cfg["name"]),
            version=str(cfg["version"]),
        )


def load_config(path: str | Path) -> VoiceModelConfig:
    """The :class:`VoiceModelConfig` of a ``config.json`` file (OSError, ValueError, KeyError or TypeError
    when it cannot be read or lacks a required key)."""
    return VoiceModelConfig.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


class VoiceClassifier:
    """A voice model folder's classifier, evaluated in numpy (default: the shipped model); ``config`` is
    its :class:`VoiceModelConfig`."""

    def __init__(self, model_dir: str | Path | None = None, speaker_normalisation: str = "auto"):
        self.speaker_normalisation = check_speaker_normalisation(speaker_normalisation)
        self.dir = Path(model_dir) if model_dir is not None else default_model_dir()
        cfg_path, weights = self.dir / CONFIG_FILE, self.dir / MODEL_FILE
        if not cfg_path.is_file() or not weights.is_file():
            raise ModelError(f"no voice model in {self.dir} (need {CONFIG_FILE} and {MODEL_FILE})")
        try:
            self.config = load_config(cfg_path)
            self.tensors = {k: v.astype(np.float64) for k, v in load_file(str(weights)).items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, SafetensorError) as exc:
            raise ModelError(f"voice model in {self.dir} is malformed: {exc}") from exc
        self._check_shapes()
        if speaker_normalisation == "always" and not self.has_speaker_model:
            raise ModelError(f"the voice model in {self.dir} has no speaker-normalised classifier; "
                             "speaker_normalisation='always' needs one")
        cfg = self.config
        if set(cfg.to_canonical.values()) - set(CANONICAL) or cfg.prosody_columns != list(COLUMNS):
            raise ModelError(f"voice model in {self.dir} does not match this version's labels or prosody")
        self.name = f"{cfg.name} v{cfg.version}"

    def _check_shapes(self) -> None:
        mean = self.tensors.get("population.mean")
        dim = 0 if mean is None else mean.shape[0]
        n = len(self.config.classes)
        expected = {"population.feature_mean": (dim,), "population.feature_std": (dim,)}
        variants = [("population", dim), ("recording", 2 * dim)]
        if self.has_speaker_model:
            variants.append(("speaker", dim))
        for variant, width in variants:
            expected.update({f"{variant}.mean": (width,), f"{variant}.scale": (width,),
                             f"{variant}.coef": (n, width), f"{variant}.intercept": (n,)})
        if self.config.frame_weight:
            proj = self.tensors.get("frames.proj_w")
            hidden, width = (0, 0) if proj is None or proj.ndim != 2 else proj.shape
            expected.update({"frames.in_mean": (width,), "frames.in_std": (width,),
                             "frames.proj_w": (hidden, width), "frames.proj_b": (hidden,),
                             "frames.att_w": (1, hidden), "frames.att_b": (1,),
                             "frames.out_w": (n, 3 * hidden), "frames.out_b": (n,)})
        for key, shape in expected.items():
            if dim == 0 or key not in self.tensors or self.tensors[key].shape != shape:
                raise ModelError(f"voice model in {self.dir}: tensor {key!r} does not match its config")

    @property
    def has_speaker_model(self) -> bool:
        """Whether the model has the speaker-normalised classifier."""
        return self.config.speaker_min_segments is not None

    @property
    def uses_frames(self) -> bool:
        """Whether the model wants the encoder states of each segment (``predict(..., frame_probs=...)``)."""
        return self.config.frame_weight > 0

    @property
    def dim(self) -> int:
        return int(self.tensors["population.mean"].shape[0])

    def _fill(self, features: np.ndarray) -> np.ndarray:
        """``features`` with unmeasured (NaN) values replaced by the training mean; itself when none is."""
        missing = np.isnan(features)
        if not missing.any():
            return features
        return np.where(missing, self.tensors["population.feature_mean"], features)

    def _checked_views(self, features: np.ndarray | list[np.ndarray],
                       frame_probs: np.ndarray | None) -> list[np.ndarray]:
        """The feature views with unmeasurable values filled, after checking their shapes and the frame
        network's probabilities against the model."""
        views = [features] if isinstance(features, np.ndarray) else list(features)
        for f in views:
            if f.ndim != 2 or f.shape[1] != self.dim or len(f) != len(views[0]):
                raise ModelError(f"voice features have shape {f.shape}, the model expects (n, {self.dim})")
        if self.uses_frames and frame_probs is None:
            raise ModelError("this voice model needs the frame network's probabilities (the encoder states "
                             "of every segment, through segment_frame_proba)")
        if self.uses_frames and frame_probs.shape != (len(views[0]), len(self.config.classes)):
            raise ModelError(f"frame probabilities have shape {frame_probs.shape}, expected "
                             f"({len(views[0])}, {len(self.config.classes)})")
        return [self._fill(f) for f in views]

    def _lr(self, variant: str, views: list[np.ndarray],
            transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """One logistic regression's probabilities, averaged over the views; ``transform`` (e.g. the
        z-scores beside the features) is applied to one view at a time, so that only one transformed
        copy is in memory."""
        params = {k.split(".", 1)[1]: v for k, v in self.tensors.items() if k.startswith(variant + ".")}
        return np.mean([logistic_proba(params, x if transform is None else transform(x)) for x in views],
                       axis=0)

    def _blend(self, p: np.ndarray, frame_probs: np.ndarray | None) -> np.ndarray:
        w = self.config.frame_weight
        return p if not self.uses_frames else (1 - w) * p + w * frame_probs

    def speaker_gate(self, features: np.ndarray | list[np.ndarray],
                     frame_probs: np.ndarray | None = None) -> dict:
        """Whether the speaker-normalised classifier is used for these segments, and why:
        ``{"use": bool, "segments": n, "effective_classes": float or None, "mode": ...}``."""
        return self._gate(self._checked_views(features, frame_probs), frame_probs)

    def _gate(self, views: list[np.ndarray], frame_probs: np.ndarray | None) -> dict:
        n = len(views[0])
        gate = {"use": False, "segments": n, "effective_classes": None, "mode": self.speaker_normalisation}
        too_few = n < self.config.min_segments
        if not self.has_speaker_model or too_few or self.speaker_normalisation == "never":
            return gate
        opens, eff = speaker_gate_opens(self._blend(self._lr("population", views), frame_probs),
                                        self.config.speaker_min_segments, self.config.speaker_min_effective)
        gate["effective_classes"] = round(eff, 3)
        gate["use"] = self.speaker_normalisation == "always" or opens
        return gate

    def segment_frame_proba(self, view_states: list[np.ndarray]) -> np.ndarray:
        """The frame network's class probabilities for one segment, averaged over its views."""
        fp = {k: self.tensors[f"frames.{k}"] for k in FRAME_KEYS}
        return frame_proba(fp, view_states).mean(axis=0)

    def predict(self, features: np.ndarray | list[np.ndarray],
                frame_probs: np.ndarray | None = None) -> tuple[np.ndarray, str]:
        """Canonical-label probabilities, one row per segment (columns in CANONICAL order), and the
        classifier used; :meth:`predict_with_gate` also returns the speaker gate's decision."""
        probs, variant, _ = self.predict_with_gate(features, frame_probs)
        return probs, variant

    def predict_with_gate(self, features: np.ndarray | list[np.ndarray],
                          frame_probs: np.ndarray | None = None) -> tuple[np.ndarray, str, dict]:
        """Canonical-label probabilities, one row per segment (columns in CANONICAL order), the
        classifier used (one of :data:`VARIANTS`) and the speaker gate (:meth:`speaker_gate`).

        ``features``: one matrix (segments x dim), or several views of the same segments (the
        original and the ``tta_speeds`` views) whose probabilities are averaged. ``frame_probs``: for a
        model with a frame network (:attr:`uses_frames`, then required), its probabilities per segment
        (segments x classes, from :meth:`segment_frame_proba`, one segment's states at a time), mixed in
        with weight ``frame_weight``.
        """
        filled = self._checked_views(features, frame_probs)
        gate = self._gate(filled, frame_probs)
        if len(filled[0]) < self.config.min_segments:
            p, variant = self._blend(self._lr("population", filled), frame_probs), "population"
        elif gate["use"]:
            p_spk = self._lr("speaker", filled, zscore)
            w = self.config.speaker_lr_weight if self.uses_frames else 1.0
            p, variant = w * p_spk + (1 - w) * (frame_probs if self.uses_frames else 0.0), "speaker"
        else:
            p = self._blend(self._lr("recording", filled, _with_zscores), frame_probs)
            variant = "recording"
        canon = np.zeros((len(p), len(CANONICAL)))
        for j, cls in enumerate(self.config.classes):
            canon[:, CANONICAL.index(self.config.to_canonical[cls])] += p[:, j]
        return canon, variant, gate
