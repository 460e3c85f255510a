"""The clips a dataset build covers: a directory of videos, or a CSV manifest.

A CSV manifest has a header row with a ``path`` column (absolute, or relative to the CSV's folder)
and optional ``label``, ``subtitle`` and ``id`` columns. Without ``id`` a clip's id is its file name
without the extension (the relative path, ``/`` turned into ``__``, when two files share a name).
Ids name every output file of the clip, so they must be unique and file-system safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.io.paths import read_path_manifest

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv"})
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ClipSpec:
    """One clip to process: where it is, and what the user already knows about it."""

    clip_id: str
    path: str  # a video, audio file or image; "" for a text-only item (the subtitle is the input)
    label: str | None = None  # as given by the user (any taxonomy); None if unknown
    subtitle: str | None = None  # given transcript; None means "transcribe it"


def safe_id(text: str) -> str:
    """A file-name-safe id: runs of characters other than letters, digits, ``.``, ``_``, ``-`` become
    ``_``."""
    out = _SAFE_ID.sub("_", text).strip("._")
    if not out:
        raise ConfigError(f"cannot make a clip id from {text!r}")
    return out


def load_manifest(source: str | Path) -> list[ClipSpec]:
    """The clips named by ``source``: a directory (searched recursively) or a ``.csv`` manifest.

    The order is the directory's sorted relative paths, or the CSV's row order; outputs follow it.
    """
    src = Path(source)
    if not src.exists():
        raise InputNotFoundError(f"{src}: no such directory or manifest file")
    specs = _from_directory(src) if src.is_dir() else _from_csv(src)
    if not specs:
        raise InputNotFoundError(f"{src}: no video files found "
                                 f"(looked for {', '.join(sorted(VIDEO_SUFFIXES))})")
    seen: dict[str, str] = {}
    for s in specs:
        if s.clip_id in seen:
            raise ConfigError(f"clip id {s.clip_id!r} is used by both {seen[s.clip_id]} and {s.path}; "
                              "give an 'id' column in the manifest")
        seen[s.clip_id] = s.path
    return specs


def _from_directory(root: Path) -> list[ClipSpec]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
                   and not p.name.startswith("."))
    rels = [p.relative_to(root) for p in files]
    stem_count: dict[str, int] = {}
    for r in rels:
        stem_count[r.stem] = stem_count.get(r.stem, 0) + 1
    specs = []
    for p, r in zip(files, rels, strict=True):
        name = r.stem if stem_count[r.stem] == 1 else str(r.with_suffix("")).replace("/", "__")
        specs.append(ClipSpec(clip_id=safe_id(name), path=str(p.resolve())))
    return specs


def _from_csv(path: Path) -> list[ClipSpec]:
    if path.suffix.lower() != ".csv":
        raise ConfigError(f"{path}: give a directory of videos or a .csv manifest")
    specs = []
    for clip_path, row in read_path_manifest(path):
        clip_id = safe_id(row.get("id") or clip_path.stem)
        specs.append(ClipSpec(clip_id=clip_id, path=str(clip_path), label=row.get("label") or None,
                              subtitle=row.get("subtitle") or None))
    return specs
