"""The voice modality: prosody, features, the voice-emotion classifier, cues."""
