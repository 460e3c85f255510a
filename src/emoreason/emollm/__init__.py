"""The multimodal LLM (Emotion-LLaMA's design): configuration, model, processing, prompts, answer parsing.

Modules and what they import:

* light (no torch; the dataset builder uses them): ``instructions`` (Emotion-LLaMA's prompts and
  answer words), ``answer_parsing``, ``dataset`` (instruction data readers), ``recipe`` (training
  recipes);
* heavy: every other module needs torch or transformers throughout and imports them at its top:
  ``configuration_emollm``, ``modeling_emollm``, ``processing_emollm``, ``encoders``, ``lora`` (peft),
  ``media`` (clip decoding), ``features`` (the feature cache), ``checkpoint``, ``train`` (accelerate),
  ``infer``, ``tokenizer``, ``tiny``.

This package imports only the light answer parser itself; the model classes are loaded on first
access (``from emoreason.emollm import EmoLLMConfig`` imports transformers then). ``model_type =
"emollm"`` is registered with ``AutoConfig`` and ``AutoModel`` when the model classes are imported,
so it is registered wherever they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from emoreason.emollm.answer_parsing import ParsedAnswer, parse_answer

if TYPE_CHECKING:
    from emoreason.emollm.configuration_emollm import EmoLLMConfig
    from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration, EmoLLMPreTrainedModel
    from emoreason.emollm.processing_emollm import EmoLLMProcessor, add_placeholder_tokens

#: The names loaded on first access, and the module that defines each.
_LAZY = {
    "EmoLLMConfig": "configuration_emollm",
    "EmoLLMForConditionalGeneration": "modeling_emollm",
    "EmoLLMPreTrainedModel": "modeling_emollm",
    "EmoLLMProcessor": "processing_emollm",
    "add_placeholder_tokens": "processing_emollm",
}

__all__ = [
    "EmoLLMConfig",
    "EmoLLMForConditionalGeneration",
    "EmoLLMPreTrainedModel",
    "EmoLLMProcessor",
    "ParsedAnswer",
    "add_placeholder_tokens",
    "parse_answer",
]


def __getattr__(name: str) -> Any:
    """Import a model class on first access (PEP 562); the modeling module comes along so that
    ``AutoConfig`` / ``AutoModel`` know ``model_type = "emollm"`` whichever class is asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module(f"{__name__}.modeling_emollm")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
