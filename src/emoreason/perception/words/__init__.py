"""The words modality: transcripts and the text-emotion models."""
