"""The words model for languages other than English: a multilingual sentence encoder
(:mod:`emoreason.perception.text.multilingual_encoder`) with a small head over its embedding, in numpy.

The head (``assets/text_multilingual/``: ``head.safetensors`` arrays + ``head.json`` labels, encoder name,
temperature, training facts; no pickle) is a multinomial logistic regression or a one-hidden-layer ReLU
network on the standardised, L2-normalised sentence embedding, with a softmax temperature fitted on a
validation split. It reads each sentence alone (no dialogue context) and outputs the canonical labels.

Key words: leave-one-unit-out occlusion with the same head, all variants embedded in one batch
(:meth:`MultilingualTextModel.key_words`). Units are the whitespace-separated words; runs of Chinese
characters (Han) and Japanese kana, written without spaces, are split into overlapping two-character
windows (most Chinese words are one or two characters long), so the key "word" of a Chinese sentence is
the two-character span whose removal lowers the label's score most. Other scripts written without spaces
(Thai, ...) form one unit per run and so get no key word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.assets import asset_path
from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.text.mlp import mlp_logits, read_mlp, save_mlp, softmax_t
from emoreason.perception.text.multilingual_encoder import ENCODERS, MultilingualEncoder

FORMAT = "emoreason-text-multilingual"
WEIGHTS_FILE = "head.safetensors"
META_FILE = "head.json"
MAX_UNITS = 40  # longer sentences (or segments, in the English analyzer) are not searched for a key word
MIN_KEY_WORD_DROP = 0.1  # removing the key word must lower its label's score by this much (both models)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHARS = re.compile(f"[{_CJK}]")  # Han characters and kana
_UNIT = re.compile(rf"[{_CJK}]+|[^\s{_CJK}]+")
_STRIP = ".,!?;:\"'()¡¿。，！？；：、“”‘’（）《》「」…"


def default_multilingual_dir() -> Path:
    """The shipped head's folder (``assets/text_multilingual``)."""
    return asset_path("text_multilingual")


@dataclass
class MultilingualHead:
    """``layers`` = [(W, b), ...] on standardised embeddings, ReLU between, softmax(z / T) out."""

    encoder: str
    mean: np.ndarray
    scale: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]
    temperature: float = 1.0
    labels: tuple[str, ...] = CANONICAL
    meta: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, emb: np.ndarray) -> np.ndarray:
        return softmax_t(mlp_logits(emb, self.mean, self.scale, self.layers), self.temperature)

    def save(self, folder: str | Path) -> None:
        meta = dict(self.meta, format=FORMAT, version=1, encoder=self.encoder, labels=list(self.labels),
                    n_layers=len(self.layers), temperature=self.temperature)
        save_mlp(Path(folder), WEIGHTS_FILE, META_FILE, self.mean, self.scale, self.layers, meta)

    @classmethod
    def load(cls, folder: str | Path | None = None) -> MultilingualHead:
        folder = Path(folder) if folder is not None else default_multilingual_dir()
        meta_path, weights_path = folder / META_FILE, folder / WEIGHTS_FILE
        if not meta_path.is_file() or not weights_path.is_file():
            raise ModelError(f"multilingual text model files missing under {folder} (need {META_FILE} and "
                             f"{WEIGHTS_FILE}); regenerate with: "
                             "python -m emoreason.training.text.multilingual --data ../shared/data")
        try:
            meta, arrays, layers, labels = read_mlp(folder, WEIGHTS_FILE, META_FILE, FORMAT)
            encoder = str(meta["encoder"])
            if encoder not in ENCODERS:
                raise ValueError(f"unknown encoder {encoder!r}")
            if not layers[0][0].shape[0] == arrays["mean"].shape[0] == ENCODERS[encoder][1]:
                raise ValueError(f"the first layer should read the {encoder} embedding "
                                 f"({ENCODERS[encoder][1]} numbers)")
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise ModelError(f"multilingual text model under {folder} is malformed: {exc}") from None
        return cls(encoder, arrays["mean"].astype(np.float64),
                   np.maximum(arrays["scale"].astype(np.float64), 1e-8), layers,
                   float(meta.get("temperature", 1.0)), labels, meta)


class MultilingualTextModel:
    """``predict_proba(texts)`` -> ``(n, 7)`` in CANONICAL order; ``key_words`` by occlusion."""

    def __init__(self, folder: str | Path | None = None, threads: int | None = None):
        self.head = MultilingualHead.load(folder)
        self.encoder = MultilingualEncoder(self.head.encoder, threads)
        self.labels = CANONICAL

    @property
    def name(self) -> str:
        return str(self.head.meta.get("name", f"emoreason multilingual text head ({self.head.encoder})"))

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(CANONICAL)))
        p = self.head.predict_proba(self.encoder.encode(texts))
        out = np.zeros((len(texts), len(CANONICAL)))
        for j, lab in enumerate(self.head.labels):
            out[:, CANONICAL.index(lab)] = p[:, j]
        return out

    def key_words(self, requests: list[tuple[str, int]]) -> list[tuple[str, float, int] | None]:
        """For each (sentence, label index): the unit (see the module docstring) whose removal lowers that
        label's score most, as (the unit in the sentence's own script, the drop, the unit's index); None
        below :data:`MIN_KEY_WORD_DROP`, for one unit or more than :data:`MAX_UNITS`. The sentences and
        all their variants are scored in one batch."""
        texts, spans = [], []
        for text, _ in requests:
            units = text_units(text)
            if len(units) < 2 or len(units) > MAX_UNITS:
                spans.append(None)
                continue
            spans.append((len(texts), units))
            texts.append(text)
            texts += [text[:s] + text[e:] for s, e in units]  # the encoder collapses the spaces
        probs = self.predict_proba(texts) if texts else None
        out = []
        for (text, label), span in zip(requests, spans):
            if span is None:
                out.append(None)
                continue
            at, units = span
            scores = probs[at + 1:at + 1 + len(units), label]
            k = int(np.argmin(scores))
            drop = float(probs[at, label] - scores[k])
            s, e = units[k]
            word = text[s:e].strip(_STRIP) or text[s:e]
            out.append((word, drop, k) if drop >= MIN_KEY_WORD_DROP else None)
        return out


def text_units(text: str) -> list[tuple[int, int]]:
    """Character spans of the occlusion units of ``text`` (module docstring): whitespace-separated words,
    and overlapping two-character windows over runs of Han characters and kana."""
    units = []
    for m in _UNIT.finditer(text):
        s, e = m.span()
        if CJK_CHARS.match(text[s]) and e - s > 2:
            units += [(i, i + 2) for i in range(s, e - 1)]
        else:
            units.append((s, e))
    return units
