"""Data, feature cache, training and inference for the multimodal LLM (:mod:`emoreason.models.emollm`)."""
