"""Training of the default text models."""
