"""The default text-emotion model: a weighted average of the fine-tuned LoRA models' probabilities
(:mod:`emoreason.perception.text.lora`, read with dialogue context) and the MLP head on frozen MiniLM
features (:mod:`emoreason.perception.text.head`).

``text_ensemble.json`` in the model folder names the members and their weights::

    {"format": "emoreason-text-ensemble", "members": [
        {"kind": "lora", "path": "lora_s0", "weight": 0.2222}, ..., {"kind": "head", "weight": 0.3333}]}

A folder without that file holds a head alone (what ``python -m emoreason.training.text.model`` writes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.errors import ModelError
from emoreason.io.atomic import atomic_write_text
from emoreason.labels import CANONICAL
from emoreason.perception.text.batching import map_batches, padded_tokens, total_tokens
from emoreason.perception.text.head import (
    TextHead,
    build_features,
    default_text_model_dir,
    surface_features,
    vader_features,
)
from emoreason.perception.text.lora import LoraTextModel
from emoreason.perception.text.sentence_encoder import EMBEDDING_DIM, SentenceEncoder, normalise_text

FORMAT = "emoreason-text-ensemble"
ENSEMBLE_FILE = "text_ensemble.json"


@dataclass
class TextEnsemble:
    """``predict_proba(texts, histories)`` -> ``(n, 7)`` in CANONICAL order."""

    head: TextHead | None
    head_weight: float
    loras: list[tuple[LoraTextModel, float]]
    encoder: SentenceEncoder
    meta: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] = CANONICAL

    @property
    def uses_context(self) -> bool:
        return bool(self.loras) or (self.head is not None and self.head.uses_context)

    @property
    def name(self) -> str:
        if self.meta.get("name"):
            return str(self.meta["name"])
        return str(self.head.meta.get("name", "emoreason text head")) if self.head else "emoreason text model"

    def predict_proba(self, texts: list[str], histories: list[list[str]] | None = None,
                      first: np.ndarray | None = None, encoded: dict | None = None) -> np.ndarray:
        """Each distinct (text, history) pair is scored once (a list or a key-word search repeats many).

        ``first``: the first LoRA member's probabilities (CANONICAL order, as :meth:`key_word_proba` gives
        them) where already computed for a row, NaN rows where not; those rows are not run through it
        again. ``encoded``: the head's sentence-encoder outputs by text (:meth:`_head_proba`), read where
        present and filled with the texts encoded here: pass one dict to several calls over the same
        texts (the utterances, then the key-word search's sentences read alone) to encode each once."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        histories = histories if histories is not None else [[] for _ in texts]
        first_at: dict[tuple[str, tuple[str, ...]], int] = {}
        where = [first_at.setdefault((t, tuple(h)), len(first_at)) for t, h in zip(texts, histories)]
        if len(first_at) < len(texts):
            unique, rows = list(first_at), {}
            for i, u in enumerate(where):
                rows.setdefault(u, i)  # each distinct pair's first row, in the order of ``unique``
            return self.predict_proba([t for t, _ in unique], [list(h) for _, h in unique],
                                      None if first is None else first[list(rows.values())], encoded)[where]
        total = np.zeros((len(texts), len(self.labels)))
        probs, jobs = [], []  # every member's batches, run together, the longest first
        for m, (model, _) in enumerate(self.loras):
            known = first if m == 0 and first is not None else np.full((len(texts), len(CANONICAL)), np.nan)
            probs.append(np.array(known, dtype=np.float64))
            todo = np.flatnonzero(np.isnan(probs[-1]).any(axis=1))
            if len(todo):
                jobs += [(m, todo[idx], encs) for idx, encs in model.batches([texts[i] for i in todo],
                                                                             [histories[i] for i in todo])]
        jobs.sort(key=lambda j: -padded_tokens(j[2]))
        done = map_batches(lambda j: self.loras[j[0]][0].proba_from_encodings(j[2]), jobs,
                           total_tokens(j[2] for j in jobs))
        for (m, rows, _), p in zip(jobs, done):
            probs[m][rows] = _in_canonical(p, self.loras[m][0].labels)
        for p, (_, weight) in zip(probs, self.loras):
            total += weight * p
        if self.head is not None and self.head_weight > 0:
            total += self.head_weight * _in_canonical(self._head_proba(texts, histories, encoded),
                                                      self.head.labels)
        return total / total.sum(axis=1, keepdims=True)

    def key_word_proba(self, texts: list[str]) -> np.ndarray:
        """``(n, 7)`` probabilities (CANONICAL order) of sentences read alone by one network, the cheap
        search of the text stage's key words: the first LoRA member, or the head when there is none."""
        if self.loras:
            model = self.loras[0][0]
            return _in_canonical(model.predict_proba(texts, [[] for _ in texts]), model.labels)
        return _in_canonical(self._head_proba(texts, [[] for _ in texts]), self.head.labels)

    def _head_proba(self, texts: list[str], histories: list[list[str]], encoded: dict | None = None
                    ) -> np.ndarray:
        """The head's probabilities. Its sentence-encoder inputs (each text, and the utterance before it
        when the head reads context) are encoded in one pass, each distinct text once; ``encoded``
        (normalised text -> (embedding, layer features)) supplies rows already computed and receives the
        new ones."""
        encoded = {} if encoded is None else encoded
        key = [normalise_text(t) for t in texts]
        before = [normalise_text(h[-1]) if h and h[-1].strip() else None for h in histories] \
            if self.head.uses_context else [None] * len(texts)
        missing = list(dict.fromkeys(t for t in key + before if t is not None and t not in encoded))
        if missing:
            emb, layers = self.encoder.encode_layers(missing, self.head.layers_used)
            encoded.update(zip(missing, zip(emb, layers)))
        layers = np.stack([encoded[t][1] for t in key])
        ctx = None
        if self.head.uses_context:
            ctx = np.zeros((len(texts), EMBEDDING_DIM), np.float32)
            idx = [i for i, b in enumerate(before) if b is not None]
            if idx:
                ctx[idx] = np.stack([encoded[before[i]][0] for i in idx])
        features = build_features(layers, vader_features(texts), surface_features(texts), ctx)
        return self.head.predict_proba(features)

    @classmethod
    def load(cls, folder: str | Path | None = None, encoder_dir: str | Path | None = None) -> TextEnsemble:
        folder = Path(folder) if folder is not None else default_text_model_dir()
        encoder = SentenceEncoder(encoder_dir)
        spec_path = folder / ENSEMBLE_FILE
        if not spec_path.is_file():
            return cls(TextHead.load(folder), 1.0, [], encoder)
        try:
            meta = json.loads(spec_path.read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"format is {meta.get('format')!r}, expected {FORMAT!r}")
            members = [(str(m["kind"]), m.get("path"), float(m["weight"])) for m in meta["members"]]
            if not members or any(k not in ("lora", "head") or w < 0 for k, _, w in members):
                raise ValueError("members must be 'lora' or 'head' with non-negative weights")
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"{spec_path} is malformed: {exc}") from None
        head_weight = sum(w for k, _, w in members if k == "head")
        head = TextHead.load(folder) if head_weight > 0 else None
        loras = [(LoraTextModel.load(folder / str(p), encoder.model_dir), w)
                 for k, p, w in members if k == "lora"]
        return cls(head, head_weight, loras, encoder, meta)


def write_ensemble(folder: Path, lora_paths: list[str], head_weight: float, meta: dict[str, Any]) -> None:
    """Equal shares for the LoRA members, ``head_weight`` for the head (0 leaves it out)."""
    each = (1.0 - head_weight) / max(1, len(lora_paths))
    members = [{"kind": "lora", "path": p, "weight": round(each, 6)} for p in lora_paths]
    if head_weight > 0:
        members.append({"kind": "head", "weight": round(head_weight, 6)})
    spec = dict(meta, format=FORMAT, members=members)
    atomic_write_text(folder / ENSEMBLE_FILE, json.dumps(spec, indent=2) + "\n")


def _in_canonical(p: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    if tuple(labels) == tuple(CANONICAL):
        return p
    out = np.zeros((p.shape[0], len(CANONICAL)))
    for j, lab in enumerate(labels):
        out[:, CANONICAL.index(lab)] = p[:, j]
    return out
