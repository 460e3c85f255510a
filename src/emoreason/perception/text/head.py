"""The text-emotion head: standardised features -> a small dense network (or logistic regression) in numpy.

Features per utterance, in this order: MiniLM hidden states mean-pooled over tokens for the layers
the head names (384 each), VADER neg/neu/pos/compound (4), surface cues (5: counts of '!', '?' and
'...', share of all-caps words, log word count) and, when the head was trained with dialogue context,
the MiniLM sentence embedding of the preceding utterance (384, zeros when there is none). Stored as
``text_head.safetensors`` (arrays) + ``text_head.json`` (labels, layout, temperature, training facts);
no pickle anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from emoreason.assets import model_dir
from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.text.mlp import mlp_logits, read_mlp, save_mlp, softmax_t

FORMAT = "emoreason-text-head"
WEIGHTS_FILE = "text_head.safetensors"
META_FILE = "text_head.json"
VADER_KEYS = ("neg", "neu", "pos", "compound")
VADER_CHUNK_CHARS = 2000  # longer texts are scored by VADER in pieces of about this size (linear time)
VADER_ALPHA = 15.0  # VADER's normalisation constant: compound = sum / sqrt(sum**2 + alpha)


def default_text_model_dir() -> Path:
    """The shipped text model folder (``assets/models/text``)."""
    return model_dir("text")


def vader_features(texts: list[str]) -> np.ndarray:
    """``(n, 4)`` VADER neg, neu, pos, compound (:func:`vader_scores` of each text)."""
    return np.asarray([vader_scores(t) for t in texts], dtype=np.float32).reshape(len(texts), len(VADER_KEYS))


def vader_scores(text: str) -> list[float]:
    """VADER neg, neu, pos, compound of ``text``, in time linear in its length.

    VADER's own ``polarity_scores`` takes time quadratic in the number of words (its negation check
    lower-cases the whole text once per word): 100,000 characters took minutes. A text up to
    :data:`VADER_CHUNK_CHARS` long is scored whole, as VADER does; a longer one in pieces of about that
    size cut at sentence ends (:func:`split_for_vader`). The pieces' neg/neu/pos are averaged, weighted by
    their words; the compound is rebuilt from the pieces' valence sums, as VADER computes it for a whole
    text (``sum / sqrt(sum**2 + 15)``)."""
    analyzer = _vader()
    pieces = split_for_vader(text)
    if len(pieces) == 1:
        scores = analyzer.polarity_scores(text)
        return [scores[k] for k in VADER_KEYS]
    rows = [analyzer.polarity_scores(p) for p in pieces]
    words = np.asarray([max(1, len(p.split())) for p in pieces], dtype=np.float64)
    parts = [float(np.dot(words, [r[k] for r in rows]) / words.sum()) for k in VADER_KEYS[:3]]
    compounds = np.clip([r["compound"] for r in rows], -0.9999, 0.9999)
    total = float(np.sum(compounds * np.sqrt(VADER_ALPHA / (1.0 - compounds ** 2))))  # each piece's sum
    return [*parts, total / float(np.sqrt(total * total + VADER_ALPHA))]


def split_for_vader(text: str, size: int | None = None) -> list[str]:
    """``text`` whole when it has at most ``size`` (:data:`VADER_CHUNK_CHARS`) characters, else pieces of
    at most about that size, cut after a sentence end (else at a space, else anywhere)."""
    size = size or VADER_CHUNK_CHARS
    if len(text) <= size:
        return [text]
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "), window.rfind("\n"))
            cut = cut + 1 if cut > size // 2 else window.rfind(" ")
            end = start + cut if cut > size // 2 else end
        piece = text[start:end].strip()
        if piece:
            pieces.append(piece)
        start = end
    return pieces or [text]


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    """One VADER analyser for the process (it reads its lexicon when made)."""
    return SentimentIntensityAnalyzer()


def surface_features(texts: list[str]) -> np.ndarray:
    """``(n, 5)``: counts of '!', '?', '...', share of all-caps words (2+ letters), log(1 + words)."""
    rows = []
    for t in texts:
        words = t.split()
        caps = sum(w.isupper() and len(w) > 1 for w in words) / max(1, len(words))
        rows.append([t.count("!"), t.count("?"), t.count("..."), caps, np.log1p(len(words))])
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), 5)


def build_features(layer_features: np.ndarray, vader: np.ndarray, surface: np.ndarray,
                   context: np.ndarray | None = None) -> np.ndarray:
    """The head's input: the feature groups side by side, in the order the module docstring gives."""
    parts = [layer_features, vader, surface] + ([context] if context is not None else [])
    return np.concatenate(parts, axis=1).astype(np.float32)


@dataclass
class TextHead:
    """``layers`` = [(W, b), ...] applied to standardised features, ReLU between, softmax(z / T) out."""

    mean: np.ndarray
    scale: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]
    uses_context: bool
    layers_used: tuple[int, ...] = (6,)  # MiniLM hidden-state layers in the features
    temperature: float = 1.0
    labels: tuple[str, ...] = CANONICAL
    meta: dict[str, Any] = field(default_factory=dict)

    def logits(self, features: np.ndarray) -> np.ndarray:
        return mlp_logits(features, self.mean, self.scale, self.layers)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        return softmax_t(self.logits(features), self.temperature)

    @property
    def n_features(self) -> int:
        return int(self.mean.shape[0])

    # ---- files ---------------------------------------------------------------------------------
    def save(self, folder: str | Path, weight_dtype: str = "float32") -> None:
        """Write the two files; ``weight_dtype="float16"`` halves the size of the weight matrices."""
        meta = dict(self.meta, format=FORMAT, version=1, labels=list(self.labels), n_layers=len(self.layers),
                    uses_context=self.uses_context, minilm_layers=list(self.layers_used),
                    temperature=self.temperature, n_features=self.n_features)
        save_mlp(Path(folder), WEIGHTS_FILE, META_FILE, self.mean, self.scale, self.layers, meta,
                 weight_dtype)

    @classmethod
    def load(cls, folder: str | Path | None = None) -> TextHead:
        folder = Path(folder) if folder is not None else default_text_model_dir()
        meta_path, weights_path = folder / META_FILE, folder / WEIGHTS_FILE
        if not meta_path.is_file() or not weights_path.is_file():
            raise ModelError(f"text model files missing under {folder} (need {META_FILE} and "
                             f"{WEIGHTS_FILE}); regenerate with: "
                             "python -m emoreason.training.text.model --data ../shared/data")
        try:
            meta, arrays, layers, labels = read_mlp(folder, WEIGHTS_FILE, META_FILE, FORMAT)
            minilm_layers = tuple(int(k) for k in meta["minilm_layers"])
            expected = 384 * len(minilm_layers) + 4 + 5 + (384 if meta["uses_context"] else 0)
            if not layers[0][0].shape[0] == arrays["mean"].shape[0] == expected:
                raise ValueError(f"feature statistics and first layer should both have {expected} inputs")
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise ModelError(f"text model under {folder} is malformed: {exc}") from None
        return cls(arrays["mean"].astype(np.float64), np.maximum(arrays["scale"].astype(np.float64), 1e-8),
                   layers, bool(meta["uses_context"]), minilm_layers, float(meta.get("temperature", 1.0)),
                   labels, meta)
