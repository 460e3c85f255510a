"""The checks every input file gets before it is opened (it exists, is a file, and is not empty), and the
one reader of CSV manifests (a ``path`` column, relative paths against the CSV's folder)."""

from __future__ import annotations

import csv
from pathlib import Path

from emoreason.errors import (
    ConfigError,
    EmptyInputError,
    InputNotFoundError,
    TranscriptError,
    UnsupportedFormatError,
)


def check_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise UnsupportedFormatError(f"{path}: is a directory, not a media file")
    if path.stat().st_size == 0:
        raise EmptyInputError(f"{path}: the file is empty (0 bytes)")
    return path


def read_path_manifest(path: Path) -> list[tuple[Path, dict[str, str]]]:
    """The rows of a CSV manifest with a ``path`` column: (the input's absolute path, the row with its
    column names lower-cased and its values stripped). A relative path is resolved against the CSV's folder;
    an absolute one is kept as given.
    Not UTF-8, not CSV, no ``path`` column or an empty ``path`` cell: a clear error naming the line."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            raw_rows = list(reader)
            fields = [(c or "").strip().lower() for c in (reader.fieldnames or [])]
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{path}: manifest is not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise ConfigError(f"{path}: not a readable CSV ({exc})") from None
    if "path" not in fields:
        raise ConfigError(f"{path}: the manifest needs a 'path' column "
                          f"(found: {', '.join(fields) or 'none'})")
    rows = []
    for lineno, raw in enumerate(raw_rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not row.get("path"):
            raise ConfigError(f"{path}:{lineno}: empty 'path'")
        given = Path(row["path"])
        rows.append((given if given.is_absolute() else (path.parent / given).resolve(), row))
    return rows
