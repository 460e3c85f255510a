"""What the XED, EmoEvent and CPED adapters share: the ``--split`` spelling and rows -> EvalItems.

A split is ``NAME`` or ``NAME:LANG[,LANG...]`` (e.g. ``heldout-test:de,fr``): the language suffix keeps
only rows in those ISO 639-1 languages. Each row becomes one single-label item (the row's only canonical
label); a multi-label row (XED) is excluded and counted as ``multi-label (N canonical labels)``, and the
reader's own exclusions (no canonical label, malformed lines) are carried into the dataset's account.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.eval.datasets.base import ItemCollector, LoadedDataset
from emoreason.eval.datasets.text_corpora import CorpusRows


def parse_split(split: str | None, choices: tuple[str, ...], default: str, what: str
                ) -> tuple[str, set[str] | None]:
    """``"heldout-test:de,fr"`` -> ``("heldout-test", {"de", "fr"})``; an unknown name is a ConfigError."""
    name, _, langs = (split or default).strip().lower().partition(":")
    if name not in choices:
        raise ConfigError(f"{what}: unknown split {split!r}; choose one of: {', '.join(choices)} "
                          "(optionally :LANG,LANG, e.g. heldout-test:de)")
    languages = {x.strip() for x in langs.split(",") if x.strip()} or None
    return name, languages


def rows_to_dataset(adapter, root: Path, split: str, data: CorpusRows, keep_split: str | None,
                    languages: set[str] | None) -> LoadedDataset:
    """The single-label items of ``data`` whose split is ``keep_split`` (None: all) and language fits."""
    col = ItemCollector(adapter, root, split)
    for (split_, language, reason), n in data.dropped.items():
        if split_ == "-" or ((keep_split is None or split_ == keep_split)
                             and (languages is None or language in languages)):
            col.exclude(reason, n)  # a malformed line (split "-") belongs to no split: always counted
    for note in data.notes:
        col.note(note)
    to_canon = adapter.label_map.to_canonical
    for row in data.rows:
        if keep_split is not None and row.split != keep_split:
            continue
        if languages is not None and row.language not in languages:
            continue
        if row.single is None:
            col.exclude(f"multi-label ({len(row.labels)} canonical labels)")
            continue
        source = next(s for s in row.source_labels if to_canon.get(s) == row.single)
        col.add(row.id, source, text=row.text,
                meta={"language": row.language, "group": row.group, "source_labels": list(row.source_labels)})
    if languages is not None:
        col.note(f"languages: {', '.join(sorted(languages))}")
    loaded = col.done()
    loaded.modalities = ("text",)
    return loaded
