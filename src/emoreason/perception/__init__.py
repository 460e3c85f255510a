"""Perception: one subpackage per modality (face, voice, text) and the speech front-end shared by voice and
text (``speech``); each analyzer returns a :class:`emoreason.perception.base.ModalityOutput`."""
