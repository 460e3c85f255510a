"""Former name of :mod:`emoreason.cli.emollm` (the multimodal LLM's verbs), kept until ``cli/main.py``
imports that module instead; it adds nothing of its own."""

from __future__ import annotations

from emoreason.cli.emollm import register, run_cache_features, run_merge_lora, run_train

__all__ = ["register", "run_cache_features", "run_merge_lora", "run_train"]
