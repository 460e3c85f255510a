"""FER+ (Barsoum et al. 2016): FER2013's 48x48 faces relabelled by 10 crowd workers each.

Layout (the shared ``../shared/data/ferplus`` folder, built from github.com/microsoft/FERPlus):
``{train,valid}_labels.csv`` with columns ``path`` (relative to the CSV, e.g. ``valid/fer0028638.png``),
``majority`` and one vote count per class: ``neutral, happiness, surprise, sadness, anger, disgust, fear,
contempt, unknown, NF``. ``--root`` is that folder (or one of the CSVs); ``--split``: ``valid`` (default)
or ``train``. The original FERPlus release (``fer2013new.csv``: ``Usage, Image name, <10 counts>``,
images in ``FER2013Valid/`` ...) is read too when its ``FER2013{Train,Valid}`` folders sit beside it.

Label of an item: FER+'s "majority" scheme as its reference code applies it (``src/ferplus.py``,
``_process_data``): votes of 1 are dropped as outliers, and the class with the most remaining votes is the
label if it holds more than half of them. An image with no such majority is excluded and counted ("no
majority"); so is one whose majority is ``contempt`` (no canonical label), ``unknown`` or ``NF`` (not a
face) -- counted under their names. The CSV's own ``majority`` column (a plain arg-max, first column on
ties) is not used.

Soft labels: each item's ``meta["votes"]`` holds its raw vote counts on the 7 canonical classes (contempt,
unknown and NF votes dropped; FER+'s names mapped: happiness -> happy ...) and ``meta["other_votes"]``
the dropped ones. The evaluation report scores predicted probabilities against those votes
(cross-entropy, KL, agreement with any plurality class; :mod:`emoreason.eval.metrics`). Face only.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets.base import ItemCollector, LoadedDataset, pick_split, read_csv_rows
from emoreason.labels import CANONICAL, LabelMap

#: FER+'s classes in the vote CSVs' column order.
VOTE_COLUMNS: tuple[str, ...] = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                                 "contempt", "unknown", "NF")
_TO_CANONICAL: dict[str, str | None] = {
    "neutral": "neutral", "happiness": "happy", "surprise": "surprised", "sadness": "sad", "anger": "angry",
    "disgust": "disgusted", "fear": "fearful", "contempt": None, "unknown": None, "nf": None}
FERPLUS = LabelMap(
    name="ferplus", labels=tuple(_TO_CANONICAL), to_canonical=_TO_CANONICAL,
    from_canonical={c: next(k for k, v in _TO_CANONICAL.items() if v == c) for c in CANONICAL},
    note="happiness -> happy ...; contempt, unknown and NF (not a face) have no canonical label.")
SPLITS = {"valid": ("valid_labels.csv", "FER2013Valid", "PublicTest"),
          "train": ("train_labels.csv", "FER2013Train", "Training")}


def majority_label(votes: dict[str, int]) -> str | None:
    """FER+'s majority scheme (reference code, ``_process_data``): drop votes of 1, then the class holding
    more than half of the remaining votes (None when no class does, or nothing remains)."""
    kept = {c: v for c, v in votes.items() if v > 1}
    total = sum(kept.values())
    if total == 0:
        return None
    best = max(kept, key=lambda c: (kept[c], -VOTE_COLUMNS.index(c)))
    return best if kept[best] > 0.5 * total else None


def canonical_votes(votes: dict[str, int]) -> dict[str, int]:
    """The raw vote counts on the 7 canonical classes (contempt, unknown and NF left out)."""
    return {_TO_CANONICAL[c.lower()]: v for c, v in votes.items() if _TO_CANONICAL[c.lower()] is not None}


class FerPlusAdapter:
    name = "ferplus"
    label_map = FERPLUS
    modalities: tuple[str, ...] = ("face",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = Path(root).expanduser()
        name = pick_split(split, SPLITS, "valid", "ferplus")
        csv_name, folder, usage = SPLITS[name]
        csv_path = root if root.is_file() else root / csv_name
        if csv_path.is_file() and csv_path.name == "fer2013new.csv":
            return self._original(csv_path, name, folder, usage)
        if not csv_path.is_file():
            if (root / "fer2013new.csv").is_file():
                return self._original(root / "fer2013new.csv", name, folder, usage)
            raise InputNotFoundError(f"ferplus: no {csv_name} (or fer2013new.csv) under {root}")
        rows = read_csv_rows(csv_path, ("path", *VOTE_COLUMNS), str(csv_path))
        col = ItemCollector(self, csv_path.parent, name)
        for row in rows:
            rel = row["path"].strip()
            if not rel:
                col.exclude("row without an image path")
                continue
            self._add(col, Path(rel).name, csv_path.parent / rel, row, csv_path)
        return self._done(col)

    def _original(self, csv_path: Path, split: str, folder: str, usage: str) -> LoadedDataset:
        """The FERPlus release's ``fer2013new.csv`` (``Usage, Image name, <10 counts>``), images in
        ``FER2013Train/`` / ``FER2013Valid/`` beside it."""
        rows = read_csv_rows(csv_path, ("Usage", "Image name"), str(csv_path))
        cols = list(rows[0]) if rows else []
        if len(cols) < 12:
            raise ConfigError(f"{csv_path}: expected Usage, Image name and 10 vote columns, got {cols}")
        col = ItemCollector(self, csv_path.parent, split)
        for row in rows:
            if row["Usage"].strip() != usage:
                continue
            image = row["Image name"].strip()
            if not image:
                col.exclude("row without an image path (FER2013 image FER+ dropped)")
                continue
            counts = dict(zip(VOTE_COLUMNS, (row[c] for c in cols[2:12]), strict=True))
            self._add(col, image, csv_path.parent / folder / image, counts, csv_path)
        return self._done(col)

    @staticmethod
    def _add(col: ItemCollector, item_id: str, path: Path, row: dict[str, str], csv_path: Path) -> None:
        try:
            votes = {c: int(float(row[c])) for c in VOTE_COLUMNS}
        except ValueError:
            raise ConfigError(f"{csv_path}: {item_id} has a vote count that is not a number") from None
        label = majority_label(votes)
        if label is None:
            col.exclude("no majority (FER+ rule: > half of the votes after dropping single votes)")
            return
        others = {c: votes[c] for c in ("contempt", "unknown", "NF")}
        col.add(item_id, label, path=path, meta={"votes": canonical_votes(votes), "other_votes": others})

    @staticmethod
    def _done(col: ItemCollector) -> LoadedDataset:
        col.note("labels: FER+ majority rule (votes of 1 dropped; > half of the rest); meta votes: the raw "
                 "counts on the 7 canonical classes, for the soft-label metrics")
        return col.done()
