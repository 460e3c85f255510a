"""A generic CSV manifest: ``emoreason eval --dataset csv --root labels.csv``.

Columns: ``path`` (media file, relative to the manifest's folder, or absolute) and ``label`` (or
``emotion``); optional ``transcript`` (or ``text``), ``speaker``, ``id``, ``valence`` and ``arousal``
(already in -1..1) and ``explanation`` (a reference explanation, for the reasoning metrics). A row with
an empty ``path`` and a transcript is a text-only item.

Labels are read through :data:`MANIFEST_LABELS` (canonical names plus the common spellings listed there),
or through any named map of emoreason.labels chosen with ``label_set`` (``--label-set meld``). A label
outside the map is excluded and counted, never guessed.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.eval.datasets.base import (
    ItemCollector,
    LoadedDataset,
    media_modalities,
    read_csv_rows,
    require_file,
)
from emoreason.labels import CANONICAL, LabelMap, get_label_map

_SPELLINGS: dict[str, str | None] = {lab: lab for lab in CANONICAL}
_SPELLINGS.update(
    {
        "calm": "neutral",
        "neu": "neutral",
        "happiness": "happy",
        "joy": "happy",
        "joyful": "happy",
        "hap": "happy",
        "sadness": "sad",
        "anger": "angry",
        "mad": "angry",
        "ang": "angry",
        "fear": "fearful",
        "scared": "fearful",
        "afraid": "fearful",
        "worried": "fearful",
        "disgust": "disgusted",
        "surprise": "surprised",
        "contempt": None,
    }
)

#: The manifest's default map: canonical labels and the spellings other corpora use for them;
#: "worried" -> fearful follows MER2023; contempt is known but has no canonical label.
MANIFEST_LABELS = LabelMap(
    name="csv",
    labels=tuple(_SPELLINGS),
    to_canonical=_SPELLINGS,
    from_canonical={lab: lab for lab in CANONICAL},
    note="canonical names plus common spellings (joy, anger, fear, calm -> neutral, ...)",
)


class ManifestAdapter:
    name = "csv"
    modalities: tuple[str, ...] = ("face", "voice", "text")
    layout = __doc__ or ""

    def __init__(self, label_set: str | None = None) -> None:
        self.label_map = get_label_map(label_set) if label_set else MANIFEST_LABELS

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        manifest = require_file(Path(root), "csv manifest")
        rows = read_csv_rows(manifest, ("path",), str(manifest))
        if rows and "label" not in rows[0] and "emotion" not in rows[0]:
            raise ConfigError(f"{manifest}: needs a 'label' or 'emotion' column")
        col = ItemCollector(self, manifest, split)
        for i, row in enumerate(rows, start=2):
            rel = row.get("path", "").strip()
            text = (row.get("transcript") or row.get("text") or "").strip() or None
            if not rel and not text:
                col.exclude("row with neither path nor transcript")
                continue
            path = None
            if rel:
                path = Path(rel) if Path(rel).is_absolute() else manifest.parent / rel
            item_id = row.get("id", "").strip() or (rel or f"line{i}")
            col.add(
                item_id,
                row.get("label") or row.get("emotion") or "",
                path=path,
                text=text,
                speaker=row.get("speaker", "").strip() or None,
                valence=_unit(row.get("valence"), "valence", i),
                arousal=_unit(row.get("arousal"), "arousal", i),
                reference_explanation=row.get("explanation", "").strip() or None,
            )
        data = col.done()
        mods = set(media_modalities([it.path for it in data.items]))
        if any(it.text for it in data.items):
            mods.add("text")
        data.modalities = tuple(m for m in ("face", "voice", "text") if m in mods)
        return data


def _unit(raw: str | None, what: str, line: int) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"csv manifest line {line}: {what} {raw!r} is not a number") from None
    if not -1.0 <= value <= 1.0:
        raise ConfigError(f"csv manifest line {line}: {what} {value} is outside -1..1")
    return value
