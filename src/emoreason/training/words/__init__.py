"""Training of the default words (text) models."""
