"""The small MLP heads of the text stage (:class:`~emoreason.perception.text.head.TextHead` on MiniLM
features, :class:`~emoreason.perception.text.multilingual.MultilingualHead` on a multilingual embedding):
their forward pass and their two files, one ``.safetensors`` of arrays (``mean``, ``scale``,
``layer{k}.weight``/``layer{k}.bias``) and one JSON of facts (``format``, ``labels``, ``n_layers``,
``temperature`` and what each head adds). No pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from emoreason.io.atomic import atomic_path, atomic_write_text
from emoreason.labels import CANONICAL

Layers = list[tuple[np.ndarray, np.ndarray]]


def mlp_logits(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, layers: Layers) -> np.ndarray:
    """``x`` standardised, then each layer ``x @ W + b``, ReLU between (float64)."""
    x = (np.asarray(x, dtype=np.float64) - mean) / scale
    for k, (w, b) in enumerate(layers):
        x = x @ w + b
        if k < len(layers) - 1:
            x = np.maximum(x, 0.0)
    return x


def softmax_t(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(logits / temperature)`` over the last axis."""
    z = logits / temperature
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def save_mlp(folder: Path, weights_file: str, meta_file: str, mean: np.ndarray, scale: np.ndarray,
             layers: Layers, meta: dict[str, Any], weight_dtype: str = "float32") -> None:
    """Both files, written atomically (``folder`` made if missing); ``weight_dtype="float16"`` halves the
    weight matrices."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32)}
    for k, (w, b) in enumerate(layers):
        arrays[f"layer{k}.weight"] = np.ascontiguousarray(w, dtype=np.dtype(weight_dtype))
        arrays[f"layer{k}.bias"] = np.ascontiguousarray(b, dtype=np.float32)
    with atomic_path(folder / weights_file) as tmp:
        save_file(arrays, str(tmp))
    atomic_write_text(folder / meta_file, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def read_mlp(folder: Path, weights_file: str, meta_file: str, fmt: str
             ) -> tuple[dict[str, Any], dict[str, np.ndarray], Layers, tuple[str, ...]]:
    """``(meta, arrays, layers (float64), labels)``; ValueError, KeyError, TypeError or OSError when the
    files are unreadable, of another format, or their labels are not canonical or do not match the output
    layer (the caller names the model in its :class:`~emoreason.errors.ModelError`)."""
    meta = json.loads((folder / meta_file).read_text(encoding="utf-8"))
    if meta.get("format") != fmt:
        raise ValueError(f"format is {meta.get('format')!r}, expected {fmt!r}")
    arrays = load_file(str(folder / weights_file))
    layers = [(arrays[f"layer{k}.weight"].astype(np.float64), arrays[f"layer{k}.bias"].astype(np.float64))
              for k in range(int(meta["n_layers"]))]
    labels = tuple(meta["labels"])
    if set(labels) - set(CANONICAL) or not layers or layers[-1][0].shape[1] != len(labels):
        raise ValueError("labels do not match the output layer or are not canonical")
    return meta, arrays, layers, labels
