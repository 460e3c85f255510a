"""LoRA through peft: Emotion-LLaMA's defaults (r=64, alpha=16, dropout 0.05 on q_proj/v_proj of the LLM),
projectors trained and saved with the adapter, strict adapter loading, and merging for export."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
from torch import nn

from emoreason.errors import ConfigError, ModelError

DEFAULT_TARGETS = ("q_proj", "v_proj")
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def make_lora_config(model: nn.Module, r: int = 64, alpha: int = 16, dropout: float = 0.05,
                     targets: tuple[str, ...] | list[str] = DEFAULT_TARGETS):
    """A peft ``LoraConfig`` touching only the LLM's ``targets`` (never the encoders' q/v projections)."""
    if not targets:
        raise ConfigError("LoRA needs at least one target module name (e.g. q_proj)")
    pattern = r"language_model\.(.*\.)?(" + "|".join(sorted(set(targets))) + r")"
    projectors = [f"projectors.{s['name']}" for s in model.config.streams]
    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=pattern,
                      modules_to_save=projectors, bias="none")


def apply_lora(model: nn.Module, r: int = 64, alpha: int = 16, dropout: float = 0.05,
               targets: tuple[str, ...] | list[str] = DEFAULT_TARGETS):
    """Wrap ``model`` in a peft model: LoRA on the LLM, projectors fully trainable, the rest frozen."""
    peft_model = get_peft_model(model, make_lora_config(model, r, alpha, dropout, targets))
    n_lora = sum(1 for n, _ in peft_model.named_parameters() if "lora_A" in n)
    if n_lora == 0:
        raise ConfigError(f"no LLM module matched the LoRA targets {list(targets)}")
    return peft_model


def load_adapter(model: nn.Module, adapter_dir: str | Path, is_trainable: bool = False):
    """Attach a saved adapter; any adapter weight the model lacks, or model weight the adapter lacks, is an
    error."""
    adapter_dir = Path(adapter_dir)
    weights = adapter_dir / ADAPTER_WEIGHTS
    if not (adapter_dir / "adapter_config.json").is_file() or not weights.is_file():
        raise ModelError(f"{adapter_dir} is not an adapter folder "
                         f"(needs adapter_config.json and {ADAPTER_WEIGHTS})")
    cfg = LoraConfig.from_pretrained(str(adapter_dir))
    cfg.inference_mode = not is_trainable
    # The base model was built here from the emollm config (its LLM by name or folder); the adapter's own
    # record of that name is not used to load anything, and peft warns when it differs from the built
    # model's (empty) name. The version of transformers installed with peft also warns that peft calls a
    # deprecated gradient-checkpointing attribute. Neither concerns the user.
    cfg.base_model_name_or_path = None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        peft_model = get_peft_model(model, cfg)
    # a shipped adapter may hold fp16 weights (emollm.checkpoint.export_compact): cast back to fp32 here
    state = {k: v.float() if v.dtype == torch.float16 else v
             for k, v in safetensors.torch.load_file(str(weights)).items()}
    result = set_peft_model_state_dict(peft_model, state)
    unexpected = list(getattr(result, "unexpected_keys", []) or [])
    expected = {k for k in peft_model.state_dict() if "lora_" in k or "modules_to_save" in k}
    missing = sorted(k for k in (getattr(result, "missing_keys", []) or []) if k in expected)
    if unexpected or missing:
        raise ModelError(f"adapter {adapter_dir} does not fit the model: {len(missing)} missing "
                         f"({', '.join(missing[:2])}), {len(unexpected)} unexpected "
                         f"({', '.join(unexpected[:2])})")
    if not is_trainable:
        peft_model.eval()
    return peft_model


def merge_lora(peft_model: Any) -> nn.Module:
    """Fold the LoRA deltas into the LLM weights and unwrap: a plain EmoLLM model for export."""
    return peft_model.merge_and_unload()
