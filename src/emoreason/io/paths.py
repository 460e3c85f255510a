"""The checks every input file gets before it is opened: it exists, is a file, and is not empty."""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import EmptyInputError, InputNotFoundError, UnsupportedFormatError


def check_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise UnsupportedFormatError(f"{path}: is a directory, not a media file")
    if path.stat().st_size == 0:
        raise EmptyInputError(f"{path}: the file is empty (0 bytes)")
    return path
