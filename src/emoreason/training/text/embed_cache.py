"""A text -> embedding cache on disk for training runs (never inside the repository).

One ``<encoder>.npz`` per encoder in the cache folder holds ``texts`` (the texts after
:func:`~emoreason.perception.text.sentence_encoder.normalise_text`, which leaves no newline in them,
joined by newlines and UTF-8 encoded, as a uint8 array) and ``emb`` (float32 rows). Read with
``allow_pickle=False``; rewritten atomically whenever new texts were embedded.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from emoreason.io.atomic import atomic_path
from emoreason.perception.text.multilingual_encoder import MultilingualEncoder
from emoreason.perception.text.sentence_encoder import normalise_text

CHUNK = 2000  # texts embedded at once
SAVE_SECONDS = 120  # the cache is rewritten at most this often (and at the end)


def embed_cached(encoder: MultilingualEncoder, texts: list[str], cache_dir: str | Path,
                 log: bool = True) -> np.ndarray:
    """``(len(texts), dim)`` embeddings; the texts not yet in the cache are embedded and added to it."""
    path = Path(cache_dir) / f"{encoder.name}.npz"
    known: dict[str, int] = {}
    emb = np.zeros((0, encoder.dim), np.float32)
    stored: list[str] = []
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            stored, emb = _texts(z["texts"]), z["emb"]
        if len(stored) != len(emb):  # not a cache this module wrote: start afresh
            stored, emb = [], np.zeros((0, encoder.dim), np.float32)
        known = {t: i for i, t in enumerate(stored)}
    keys = [normalise_text(t) for t in texts]
    missing = list(dict.fromkeys(k for k in keys if k not in known))
    start = saved = time.time()
    parts = [emb]
    for i in range(0, len(missing), CHUNK):
        chunk = missing[i:i + CHUNK]
        parts.append(encoder.encode(chunk))
        known.update({t: len(stored) + j for j, t in enumerate(chunk)})
        stored += chunk
        last = i + CHUNK >= len(missing)
        if last or time.time() - saved > SAVE_SECONDS:
            emb = parts[0] = np.concatenate(parts)
            del parts[1:]
            _save(path, stored, emb)
            saved = time.time()
        if log:
            done = i + len(chunk)
            print(f"  {encoder.name}: embedded {done}/{len(missing)} new texts "
                  f"({done / max(time.time() - start, 1e-9):.0f}/s)", flush=True)
    return emb[[known[k] for k in keys]] if keys else np.zeros((0, encoder.dim), np.float32)


def _save(path: Path, texts: list[str], emb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, texts=np.frombuffer("\n".join(texts).encode("utf-8"), np.uint8), emb=emb)


def _texts(stored: np.ndarray) -> list[str]:
    return stored.tobytes().decode("utf-8").split("\n") if stored.size else []
