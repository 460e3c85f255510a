"""Training data and recipes for the multimodal LLM (``emoreason.emollm``) built from the shared corpora."""
