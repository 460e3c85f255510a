"""Perception: one subpackage per modality (face, voice, words) and the speech front-end shared by voice and
words; each analyzer returns a :class:`emoreason.perception.base.ModalityOutput`."""
