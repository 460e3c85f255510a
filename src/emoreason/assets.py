"""Where the model files are: the shipped ones under ``emoreason/assets``, and the user's model cache.

The assets ship inside the package (``pyproject.toml``'s package-data), so they are found through
:mod:`importlib.resources`, which works for a wheel, an editable install and a source checkout alike.
Models built once from packaged files (converted backbones, the joined multilingual Whisper) live under
:func:`cache_dir`; :func:`file_lock` and :func:`sha256_file` are the tools their builders share.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def asset_path(*parts: str) -> Path:
    """The path of ``emoreason/assets/<parts...>`` (a file or a folder; it need not exist)."""
    root = resources.files("emoreason") / "assets"
    return Path(str(root.joinpath(*parts)))


def model_dir(modality: str) -> Path:
    """The folder of a shipped default model: ``assets/models/<modality>`` (face, voice, text)."""
    return asset_path("models", modality)


def cache_dir() -> Path:
    """The model cache: ``$EMOREASON_CACHE``, or ``~/.cache/emoreason`` when the variable is unset."""
    return Path(os.environ.get("EMOREASON_CACHE") or Path.home() / ".cache" / "emoreason")


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of the file at ``path``, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (POSIX; where ``fcntl`` does not exist, e.g. Windows, no lock is
    taken and two processes building the same cache entry at once could collide)."""
    with open(path, "a") as fh:
        if fcntl is None:
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def publish_folder(tmp: Path, out: Path, record: dict, record_name: str = "source.json") -> None:
    """Make the finished folder ``tmp`` the cache entry ``out``: write ``record`` (what it was made from,
    its hash and licence) into it as ``record_name``, make it as readable as the user's files (``mkdtemp``
    makes it private) and rename it over ``out``, so that the entry appears complete or not at all."""
    (tmp / record_name).write_text(json.dumps(record, indent=1), encoding="utf-8")
    tmp.chmod(0o755)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
