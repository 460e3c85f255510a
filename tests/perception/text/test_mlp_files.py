"""The text heads' shared MLP files and forward pass: a round trip keeps the numbers, a wrong format or
labels that do not fit the output layer are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoreason.labels import CANONICAL
from emoreason.perception.text.mlp import mlp_logits, read_mlp, save_mlp, softmax_t


def _mlp(rng):
    layers = [(rng.standard_normal((5, 4)), rng.standard_normal(4)),
              (rng.standard_normal((4, 7)), np.zeros(7))]
    return rng.standard_normal(5), rng.random(5) + 0.5, layers


def test_round_trip_keeps_the_forward_pass(tmp_path):
    rng = np.random.default_rng(0)
    mean, scale, layers = _mlp(rng)
    meta = {"format": "f", "labels": list(CANONICAL), "n_layers": 2, "note": "café"}
    save_mlp(tmp_path / "m", "w.safetensors", "m.json", mean, scale, layers, meta)
    got_meta, arrays, got_layers, labels = read_mlp(tmp_path / "m", "w.safetensors", "m.json", "f")
    assert got_meta == meta and labels == CANONICAL
    assert "café" in (tmp_path / "m" / "m.json").read_text("utf-8")
    x = rng.standard_normal((3, 5))
    want = softmax_t(mlp_logits(x, mean.astype(np.float32), scale.astype(np.float32),
                                [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers]), 2.0)
    got = softmax_t(mlp_logits(x, arrays["mean"], arrays["scale"], got_layers), 2.0)
    assert np.allclose(got, want) and np.allclose(got.sum(axis=1), 1.0)
    save_mlp(tmp_path / "h", "w.safetensors", "m.json", mean, scale, layers, meta, weight_dtype="float16")
    assert read_mlp(tmp_path / "h", "w.safetensors", "m.json", "f")[1]["layer0.weight"].dtype == np.float16


def test_another_format_or_unfitting_labels_are_refused(tmp_path):
    mean, scale, layers = _mlp(np.random.default_rng(1))
    save_mlp(tmp_path, "w.safetensors", "m.json", mean, scale, layers,
             {"format": "f", "labels": list(CANONICAL[:6]), "n_layers": 2})
    with pytest.raises(ValueError, match="format"):
        read_mlp(tmp_path, "w.safetensors", "m.json", "g")
    with pytest.raises(ValueError, match="labels"):
        read_mlp(tmp_path, "w.safetensors", "m.json", "f")
    (tmp_path / "m.json").write_text(json.dumps({"format": "f", "labels": list(CANONICAL)}))
    with pytest.raises(KeyError):
        read_mlp(tmp_path, "w.safetensors", "m.json", "f")
