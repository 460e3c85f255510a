"""Perception: one module per modality, each turning decoded media into a :class:`ModalityOutput`."""
