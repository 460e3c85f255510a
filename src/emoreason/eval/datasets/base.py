"""What every corpus adapter yields: items with a canonical label, and an account of what it left out."""

from __future__ import annotations

import csv
import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.labels import LabelMap


@dataclass
class EvalItem:
    """One clip, image or utterance to score.

    ``label`` is canonical; ``source_label`` is the corpus' own label. ``path`` is the media file (None for
    a text-only item), ``text`` the transcript if the corpus gives one. ``valence``/``arousal`` are
    rescaled to -1..1 where the corpus has them (the adapter documents the rescaling).
    """

    id: str
    label: str
    source_label: str
    path: Path | None = None
    text: str | None = None
    speaker: str | None = None
    valence: float | None = None
    arousal: float | None = None
    reference_explanation: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadedDataset:
    """Items of one corpus split plus what was excluded and why (never silently dropped)."""

    name: str
    root: str
    split: str | None
    label_map: str
    modalities: tuple[str, ...]
    items: list[EvalItem] = field(default_factory=list)
    excluded: Counter = field(default_factory=Counter)  # "reason: label" -> count
    notes: list[str] = field(default_factory=list)

    @property
    def n_excluded(self) -> int:
        return int(sum(self.excluded.values()))

    def limited(self, limit: int | None) -> LoadedDataset:
        """The first ``limit`` items (the order is the adapter's, which is deterministic)."""
        if limit is None or limit >= len(self.items):
            return self
        return self._subset(self.items[:limit],
                            f"--limit {limit}: scored the first {limit} of {len(self.items)} usable items")

    def sampled(self, n: int | None, seed: int = 0) -> LoadedDataset:
        """A seeded random sample of ``n`` items (kept in the adapter's order), for quick balanced looks."""
        if n is None or n >= len(self.items):
            return self
        keep = sorted(random.Random(seed).sample(range(len(self.items)), n))
        return self._subset([self.items[i] for i in keep], f"--sample {n} (seed {seed}): scored a random "
                            f"{n} of {len(self.items)} usable items")

    def _subset(self, items: list[EvalItem], note: str) -> LoadedDataset:
        """A copy holding only ``items``, with ``note`` added to the notes."""
        return LoadedDataset(self.name, self.root, self.split, self.label_map, self.modalities, items,
                             Counter(self.excluded), [*self.notes, note])

    def data_hash(self) -> str:
        """SHA-256 of the item list (id, path, label, text): two reports with one hash scored the same
        data."""
        h = hashlib.sha256()
        for it in self.items:
            h.update(f"{it.id}\t{it.path or ''}\t{it.label}\t{it.text or ''}\n".encode())
        return h.hexdigest()


@runtime_checkable
class DatasetAdapter(Protocol):
    """Reads one corpus in its official layout. ``load`` raises an EmoreasonError for a wrong root."""

    name: str
    label_map: LabelMap
    modalities: tuple[str, ...]  # what the pipeline should look at by default
    layout: str  # one paragraph: the expected files, and where the layout was taken from

    def load(self, root: Path, split: str | None = None) -> LoadedDataset: ...


class ItemCollector:
    """Maps labels through a LabelMap; counts unmappable, unknown and missing-media items."""

    def __init__(self, adapter: DatasetAdapter, root: Path, split: str | None) -> None:
        self.data = LoadedDataset(adapter.name, str(root), split, adapter.label_map.name, adapter.modalities)
        self.label_map = adapter.label_map
        self._seen: dict[str, int] = {}
        self.renamed = 0

    def add(
        self,
        item_id: str,
        source_label: str,
        *,
        path: Path | None = None,
        require_media: bool = True,
        **fields: Any,
    ) -> EvalItem | None:
        raw = str(source_label).strip()
        key = raw.lower()
        if key not in self.label_map.to_canonical:
            self.data.excluded[f"unrecognised label: {raw or '(empty)'}"] += 1
            return None
        canonical = self.label_map.to_canonical[key]
        if canonical is None:
            self.data.excluded[f"no canonical label: {key}"] += 1
            return None
        if require_media and path is not None and not path.exists():
            self.data.excluded["media file missing"] += 1
            return None
        if item_id in self._seen:
            self._seen[item_id] += 1
            item_id = f"{item_id}#{self._seen[item_id]}"
            self.renamed += 1
        else:
            self._seen[item_id] = 1
        item = EvalItem(id=item_id, label=canonical, source_label=key, path=path, **fields)
        self.data.items.append(item)
        return item

    def exclude(self, reason: str, n: int = 1) -> None:
        self.data.excluded[reason] += n

    def note(self, text: str) -> None:
        self.data.notes.append(text)

    def done(self) -> LoadedDataset:
        if self.renamed:
            self.note(f"{self.renamed} items shared an id with an earlier item and were renamed id#n")
        if not self.data.items:
            detail = ", ".join(f"{k} x{v}" for k, v in self.data.excluded.most_common(5))
            raise ConfigError(
                f"{self.data.name}: no usable items under {self.data.root}"
                + (f" (excluded: {detail})" if detail else "")
            )
        return self.data


def require_dir(root: Path, what: str) -> Path:
    root = Path(root).expanduser()
    if not root.exists():
        raise InputNotFoundError(f"{what}: {root} does not exist")
    if not root.is_dir():
        raise ConfigError(f"{what}: {root} is not a folder")
    return root


def require_file(path: Path, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputNotFoundError(f"{what}: {path} not found")
    return path


def read_csv_rows(path: Path, required: tuple[str, ...] = (), what: str = "") -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, BOM tolerated) as dicts; a missing column is a ConfigError naming it."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = [c.strip() for c in (reader.fieldnames or [])]
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what or path}: not UTF-8 text ({exc.reason})") from None
    missing = [c for c in required if c not in columns]
    if missing:
        raise ConfigError(
            f"{what or path}: missing column(s) {', '.join(missing)} (has: {', '.join(columns)})"
        )
    return [{(k or "").strip(): (v or "") for k, v in row.items()} for row in rows]


def pick_split(split: str | None, choices: dict[str, Any], default: str, what: str) -> str:
    """Validate a split name against the adapter's known splits."""
    name = (split or default).strip().lower()
    if name not in choices:
        raise ConfigError(f"{what}: unknown split {split!r}; choose one of: {', '.join(choices)}")
    return name


AUDIO_EXTS = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus"}
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def media_modalities(paths: list[Path | None]) -> tuple[str, ...]:
    """The modalities a set of files can feed: audio -> voice, image -> face, video -> all three."""
    kinds = set()
    for p in paths:
        if p is None:
            kinds.add("text")
        elif p.suffix.lower() in AUDIO_EXTS:
            kinds.add("voice")
        elif p.suffix.lower() in IMAGE_EXTS:
            kinds.add("face")
        else:
            kinds.update(("face", "voice", "text"))
    order = ("face", "voice", "text")
    return tuple(m for m in order if m in kinds)


CONTEXT_TURNS = 3  # earlier utterances kept per item (the text model reads three)


def dialogue_context(rows, dialogue_of, turn_of, text_of, turns: int = CONTEXT_TURNS) -> list[list[str]]:
    """For each row, the texts of the up to ``turns`` rows before it in its dialogue (by turn number)."""
    def turn_key(r):
        t = turn_of(r)
        return (0, int(t), "") if t.lstrip("-").isdigit() else (1, 0, t)

    order: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        order.setdefault(dialogue_of(r), []).append(i)
    out: list[list[str]] = [[] for _ in rows]
    for idx in order.values():
        idx.sort(key=lambda i: turn_key(rows[i]))
        for k, i in enumerate(idx):
            out[i] = [text_of(rows[j]) for j in idx[max(0, k - turns):k]]
    return out
