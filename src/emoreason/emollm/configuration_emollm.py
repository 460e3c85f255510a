"""Configuration of the Emotion-LLaMA-style multimodal LLM (``model_type = "emollm"``).

The model turns media into *streams* of tokens that are spliced into an LLM's input embeddings:

* ``encoders``: name -> spec of a frozen HF encoder. Keys of a spec:
  ``kind`` (``frame`` | ``face`` | ``temporal`` | ``audio``, or ``face_measures``: no HF model but the
  project's face stage's numbers, :mod:`~emoreason.emollm.face_measures`, with neither ``config`` nor
  ``path``), ``feature_dim`` (its hidden size),
  ``config`` (an HF config dict with ``model_type``, or ``None`` when the model only reads cached
  features), ``path`` (an HF checkpoint folder to load its weights from at inference, optional),
  ``layer`` (which hidden state, -1 = last), ``frozen`` (default True), and for image encoders
  ``image_size``, ``image_mean``, ``image_std``, ``num_frames``.
* ``streams``: ordered list of token streams. Keys: ``name``, ``encoder``, ``select``
  (``patches`` = patch tokens without CLS, ``cls`` = the CLS / pooled token, ``mean`` = mean over
  tokens, frames and time), ``group`` (adjacent tokens concatenated g -> 1, so a 1024-patch grid with
  ``group=4`` gives 256 tokens), ``num_tokens`` (tokens after grouping), ``segment`` (``video`` or
  ``feature``: which tag pair of the prompt holds it) and ``projector`` (``linear`` | ``mlp2``).

The default recipe is Emotion-LLaMA's layout: 256 grouped EVA-CLIP patch tokens in ``<video>``, then
CLS, face MAE, VideoMAE and HuBERT (one token each) in ``<feature>``: 260 multimodal tokens.

Importing this module registers ``model_type = "emollm"`` with ``AutoConfig``.
"""

from __future__ import annotations

import copy
from typing import Any

from transformers import AutoConfig, PretrainedConfig

from emoreason.emollm.instructions import MERR_LABEL_WORDS
from emoreason.errors import ConfigError

ENCODER_KINDS = ("frame", "face", "temporal", "audio", "face_measures")
#: Encoder kinds computed by the project's own code (no HF model, no weights): their stream features are
#: computed from the media directly (:mod:`~emoreason.emollm.media`), at caching and at inference.
COMPUTED_KINDS = ("face_measures",)
SELECT_MODES = ("patches", "cls", "mean")
PROJECTOR_TYPES = ("linear", "mlp2")
SEGMENTS = ("video", "feature")


def emotion_llama_encoders() -> dict[str, dict[str, Any]]:
    """Encoder specs of the reference system (feature dims only; configs/paths come from the user)."""
    clip_mean, clip_std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    return {
        "frame": {"kind": "frame", "feature_dim": 1408, "config": None, "path": None, "image_size": 448,
                  "image_mean": clip_mean, "image_std": clip_std, "num_frames": 1},
        "face": {"kind": "face", "feature_dim": 1024, "config": None, "path": None, "image_size": 224,
                 "num_frames": 16},
        "temporal": {"kind": "temporal", "feature_dim": 1024, "config": None, "path": None, "image_size": 224,
                     "num_frames": 16},
        "audio": {"kind": "audio", "feature_dim": 1024, "config": None, "path": None},
    }


def emotion_llama_streams() -> list[dict[str, Any]]:
    """The 260-token layout: 1024 patches grouped 4 -> 256, then face, temporal, audio and CLS, the
    reference's order (``torch.cat((image_inputs_llama, video_feats, cls_tk_feats))``)."""
    return [
        {"name": "frame_patches", "encoder": "frame", "select": "patches", "group": 4, "num_tokens": 256,
         "segment": "video", "projector": "linear"},
        {"name": "face", "encoder": "face", "select": "mean", "group": 1, "num_tokens": 1,
         "segment": "feature", "projector": "linear"},
        {"name": "temporal", "encoder": "temporal", "select": "mean", "group": 1, "num_tokens": 1,
         "segment": "feature", "projector": "linear"},
        {"name": "audio", "encoder": "audio", "select": "mean", "group": 1, "num_tokens": 1,
         "segment": "feature", "projector": "linear"},
        {"name": "frame_cls", "encoder": "frame", "select": "cls", "group": 1, "num_tokens": 1,
         "segment": "feature", "projector": "linear"},
    ]


class EmoLLMConfig(PretrainedConfig):
    """Configuration of :class:`~emoreason.emollm.EmoLLMForConditionalGeneration`.

    ``placeholder_token_ids`` maps each stream name to the token id that marks its positions in
    ``input_ids``; :func:`~emoreason.emollm.processing_emollm.add_placeholder_tokens` fills it.
    """

    model_type = "emollm"
    sub_configs = {"text_config": AutoConfig}

    def __init__(
        self,
        text_config: dict | PretrainedConfig | None = None,
        encoders: dict[str, dict[str, Any]] | None = None,
        streams: list[dict[str, Any]] | None = None,
        placeholder_token_ids: dict[str, int] | None = None,
        label_words: list[str] | tuple[str, ...] | None = None,
        label_set: str = "merr",
        projector_hidden_act: str = "gelu",
        ignore_index: int = -100,
        text_model_path: str | None = None,
        trained_streams: list[str] | None = None,
        **kwargs: Any,
    ):
        if isinstance(text_config, dict):
            text_config = AutoConfig.for_model(**copy.deepcopy(text_config))
        self.text_config = text_config
        self.encoders = copy.deepcopy(encoders) if encoders is not None else emotion_llama_encoders()
        self.streams = copy.deepcopy(streams) if streams is not None else emotion_llama_streams()
        self.placeholder_token_ids = dict(placeholder_token_ids or {})
        self.label_words = list(label_words) if label_words is not None else list(MERR_LABEL_WORDS)
        self.label_set = label_set
        self.projector_hidden_act = projector_hidden_act
        self.ignore_index = ignore_index
        self.text_model_path = text_model_path
        #: streams some training example carried (set by train-llm; None: not recorded)
        self.trained_streams = None if trained_streams is None else sorted(trained_streams)
        super().__init__(**kwargs)
        self.validate_layout()

    # ------------------------------------------------------------------------------------------
    def validate_layout(self) -> None:
        """Raise ``ConfigError`` naming the first inconsistency between encoders and streams."""
        for name, spec in self.encoders.items():
            if spec.get("kind") not in ENCODER_KINDS:
                raise ConfigError(f"encoder {name!r}: kind must be one of {ENCODER_KINDS}, "
                                  f"got {spec.get('kind')!r}")
            if int(spec.get("feature_dim", 0)) <= 0:
                raise ConfigError(f"encoder {name!r}: feature_dim must be a positive integer")
            if spec["kind"] in COMPUTED_KINDS:
                self._check_computed(name, spec)
        seen: set[str] = set()
        for s in self.streams:
            name = s.get("name")
            if not name or name in seen:
                raise ConfigError(f"stream names must be unique and non-empty (got {name!r})")
            seen.add(name)
            if s.get("encoder") not in self.encoders:
                raise ConfigError(f"stream {name!r} reads encoder {s.get('encoder')!r}, "
                                  "which is not configured")
            if s.get("select") not in SELECT_MODES:
                raise ConfigError(f"stream {name!r}: select must be one of {SELECT_MODES}")
            if s.get("projector", "linear") not in PROJECTOR_TYPES:
                raise ConfigError(f"stream {name!r}: projector must be one of {PROJECTOR_TYPES}")
            if s.get("segment", "feature") not in SEGMENTS:
                raise ConfigError(f"stream {name!r}: segment must be one of {SEGMENTS}")
            if int(s.get("group", 1)) < 1 or int(s.get("num_tokens", 1)) < 1:
                raise ConfigError(f"stream {name!r}: group and num_tokens must be >= 1")
            if s["select"] != "patches" and int(s.get("num_tokens", 1)) != 1:
                raise ConfigError(f"stream {name!r}: select={s['select']!r} gives exactly one token")
            if self.encoders[s["encoder"]]["kind"] in COMPUTED_KINDS and (
                    s["select"] != "mean" or int(s.get("group", 1)) != 1 or int(s.get("num_tokens", 1)) != 1):
                raise ConfigError(f"stream {name!r} reads the {self.encoders[s['encoder']]['kind']} encoder "
                                  "(one vector per clip): use select: mean, group: 1, num_tokens: 1")

    @staticmethod
    def _check_computed(name: str, spec: dict[str, Any]) -> None:
        from emoreason.emollm.face_measures import FACE_MEASURE_DIM  # the face stage loads lazily

        if spec.get("config") or spec.get("path"):
            raise ConfigError(f"encoder {name!r}: kind {spec['kind']} is computed by emoreason's face stage; "
                              "give it neither config nor path")
        if int(spec["feature_dim"]) != FACE_MEASURE_DIM:
            raise ConfigError(f"encoder {name!r}: kind {spec['kind']} gives {FACE_MEASURE_DIM} numbers, "
                              f"not feature_dim {spec['feature_dim']}")

    def computed_encoders(self) -> list[str]:
        """Names of the encoders whose features emoreason computes itself (:data:`COMPUTED_KINDS`)."""
        return [n for n, spec in self.encoders.items() if spec["kind"] in COMPUTED_KINDS]

    def stream(self, name: str) -> dict[str, Any]:
        for s in self.streams:
            if s["name"] == name:
                return s
        raise KeyError(name)

    def stream_input_dim(self, name: str) -> int:
        """Width of one grouped token of a stream before projection (feature_dim x group)."""
        s = self.stream(name)
        return int(self.encoders[s["encoder"]]["feature_dim"]) * int(s.get("group", 1))

    @property
    def num_multimodal_tokens(self) -> int:
        return sum(int(s.get("num_tokens", 1)) for s in self.streams)

    @property
    def hidden_size(self) -> int:
        return int(self.text_config.hidden_size)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if isinstance(self.text_config, PretrainedConfig):
            out["text_config"] = self.text_config.to_dict()
        return out


AutoConfig.register("emollm", EmoLLMConfig, exist_ok=True)
