"""Tiny random EmoLLM pieces for CPU tests: encoders, a 2-layer Llama and a word-level tokenizer."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

from emoreason.emollm.tiny import build_tiny_model, tiny_encoders

build_tiny = build_tiny_model  # (model, processor) with random weights


def random_features(model, batch: int | None = None, seed: int = 0) -> dict[str, torch.Tensor]:
    """Per-stream features [n_raw, D] for one clip, or [batch, n_raw, D]."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for s in model.config.streams:
        dim = model.config.encoders[s["encoder"]]["feature_dim"]
        n_raw = s["group"] * s["num_tokens"]
        shape = (n_raw, dim) if batch is None else (batch, n_raw, dim)
        out[s["name"]] = torch.randn(*shape, generator=g)
    return out


@pytest.fixture()
def tiny():
    return build_tiny(with_encoders=False)


@pytest.fixture()
def tiny_with_encoders():
    return build_tiny(with_encoders=True)


@pytest.fixture()
def make_tiny():
    """Factory: ``make_tiny(with_encoders=False, seed=0)`` -> (model, processor)."""
    return build_tiny


@pytest.fixture()
def make_features():
    """Factory: ``make_features(model, batch=None, seed=0)`` -> per-stream random features."""
    return random_features


@pytest.fixture()
def tiny_encoders_spec():
    """Factory for the tiny encoder specs (random configs)."""
    return tiny_encoders
