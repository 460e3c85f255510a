"""The face modality: detection and mesh, Action Units, expression models, phrases."""
