"""Trained-model folders: what training writes, and how inference, merging and stage 2 read it back.

Layout of a folder written by ``train-llm``::

    config.json            EmoLLMConfig (streams, encoders, placeholder ids, text_model_path)
    tokenizer files        the tokenizer with the placeholder tokens added
    base/                  the full base model, only when it does not come from paths (random init)
    adapter/               peft LoRA weights + the projectors (modules_to_save), safetensors
    model.safetensors      instead of base/ + adapter/: a full (e.g. LoRA-merged) model

Loading is strict everywhere: a missing or unexpected weight raises :class:`~emoreason.errors.ModelError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers import AutoTokenizer

from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.lora import load_adapter, merge_lora
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
from emoreason.emollm.processing_emollm import EmoLLMProcessor, add_placeholder_tokens
from emoreason.errors import ConfigError, ModelError


def prepare_placeholders(model: EmoLLMForConditionalGeneration, tokenizer) -> None:
    """Add the placeholder tokens, resize the LLM, and zero the new rows so a reload is deterministic."""
    old = model.get_input_embeddings().weight.shape[0]
    add_placeholder_tokens(tokenizer, model.config, model)
    new = model.get_input_embeddings().weight.shape[0]
    if new > old:
        with torch.no_grad():
            model.get_input_embeddings().weight[old:] = 0
            out = model.get_output_embeddings()
            if out is not None and out.weight.shape[0] == new:
                out.weight[old:] = 0


def has_full_weights(path: Path) -> bool:
    """True when ``path`` holds a whole model (``model.safetensors``, possibly sharded)."""
    return (path / "model.safetensors").is_file() or (path / "model.safetensors.index.json").is_file()


def load_tokenizer(path: str | Path):
    """The tokenizer saved in ``path``; a folder without one is a ``ModelError``."""
    try:
        return AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load a tokenizer from {path}: {str(exc).splitlines()[0]}") from None


def load_trained(path: str | Path, is_trainable: bool = False,
                 dtype: torch.dtype | None = None) -> tuple[Any, EmoLLMProcessor]:
    """Model (a peft model when the folder has an adapter) and processor from a trained folder."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise ModelError(f"{path} is not an emollm model folder (no config.json)")
    tokenizer = load_tokenizer(path)
    if has_full_weights(path):
        model = EmoLLMForConditionalGeneration.from_pretrained(str(path), dtype=dtype)
    elif (path / "base").is_dir():
        model = EmoLLMForConditionalGeneration.from_pretrained(str(path / "base"), dtype=dtype)
    else:
        config = EmoLLMConfig.from_pretrained(str(path))
        if not config.text_model_path:
            raise ModelError(f"{path}: has neither full weights, base/, nor a text_model_path to build from")
        ids = dict(config.placeholder_token_ids)
        model = EmoLLMForConditionalGeneration.from_components(config, dtype=dtype)
        prepare_placeholders(model, tokenizer)
        if model.config.placeholder_token_ids != ids:
            raise ModelError(f"{path}: the tokenizer's placeholder ids {model.config.placeholder_token_ids} "
                             f"differ from the config's {ids}")
    if model.get_input_embeddings().weight.shape[0] < len(tokenizer):
        raise ModelError(f"{path}: the model's vocabulary ({model.get_input_embeddings().weight.shape[0]}) "
                         f"is smaller than the tokenizer's ({len(tokenizer)})")
    if (path / "adapter").is_dir():
        model = load_adapter(model, path / "adapter", is_trainable=is_trainable)
    processor = EmoLLMProcessor(tokenizer, core_model(model).config)
    return model, processor


def core_model(model: Any) -> EmoLLMForConditionalGeneration:
    """The EmoLLM model inside a peft wrapper (or the model itself)."""
    inner = model
    while not isinstance(inner, EmoLLMForConditionalGeneration):
        nxt = getattr(inner, "base_model", None) or getattr(inner, "model", None)
        if nxt is None or nxt is inner:
            raise ModelError(f"not an emollm model: {type(model).__name__}")
        inner = nxt
    return inner


def save_trained(out_dir: str | Path, model: Any, processor: EmoLLMProcessor, save_base: bool) -> None:
    """Write config, tokenizer, adapter (when LoRA), and the base model when it cannot be rebuilt from
    paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    core = core_model(model)
    core.config.save_pretrained(str(out))
    processor.tokenizer.save_pretrained(str(out))
    if isinstance(model, PeftModel):
        model.save_pretrained(str(out / "adapter"), safe_serialization=True)
        if save_base and not (out / "base").is_dir():
            raise ModelError(f"{out}: the random-init base model must be saved to base/ before training")
    else:
        core.save_pretrained(str(out), safe_serialization=True)


def merge_trained(model_dir: str | Path, output_dir: str | Path) -> Path:
    """Fold a trained folder's LoRA adapter into the model and write the whole model (safetensors) and
    its tokenizer to ``output_dir`` (the ``merge-lora`` verb). A folder without an adapter is an error."""
    model, processor = load_trained(model_dir, is_trainable=False)
    if not isinstance(model, PeftModel):
        raise ConfigError(f"{model_dir} has no LoRA adapter to merge")
    merged = merge_lora(model)
    merged.save_pretrained(str(output_dir), safe_serialization=True)
    processor.tokenizer.save_pretrained(str(output_dir))
    return Path(output_dir)
