"""Training of the default voice model."""
