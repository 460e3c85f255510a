"""Emotion-LLaMA-style multimodal LLM: configuration, model, processing, prompts, answer parsing.

Importing this package registers ``model_type = "emollm"`` with ``AutoConfig`` and ``AutoModel``.
"""

from __future__ import annotations

from transformers import AutoConfig, AutoModel

from emoreason.emollm.answer_parsing import ParsedAnswer, parse_answer
from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration, EmoLLMPreTrainedModel
from emoreason.emollm.processing_emollm import EmoLLMProcessor, add_placeholder_tokens

AutoConfig.register("emollm", EmoLLMConfig, exist_ok=True)
AutoModel.register(EmoLLMConfig, EmoLLMForConditionalGeneration, exist_ok=True)

__all__ = [
    "EmoLLMConfig",
    "EmoLLMForConditionalGeneration",
    "EmoLLMPreTrainedModel",
    "EmoLLMProcessor",
    "ParsedAnswer",
    "add_placeholder_tokens",
    "parse_answer",
]
