"""Where the shipped model files are: one function for every file under ``emoreason/assets``.

The assets ship inside the package (``pyproject.toml``'s package-data), so they are found through
:mod:`importlib.resources`, which works for a wheel, an editable install and a source checkout alike.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def asset_path(*parts: str) -> Path:
    """The path of ``emoreason/assets/<parts...>`` (a file or a folder; it need not exist)."""
    root = resources.files("emoreason") / "assets"
    return Path(str(root.joinpath(*parts)))


def model_dir(modality: str) -> Path:
    """The folder of a shipped default model: ``assets/models/<modality>`` (face, voice, text)."""
    return asset_path("models", modality)
