"""MELD: the official CSVs plus, if present, the clip folders (``dia{D}_utt{U}.mp4``).

Official layout (github.com/declare-lab/MELD, README and MELD.Raw): ``train_sent_emo.csv``,
``dev_sent_emo.csv``, ``test_sent_emo.csv`` with columns ``Sr No., Utterance, Speaker, Emotion,
Sentiment, Dialogue_ID, Utterance_ID, Season, Episode, StartTime, EndTime``; clips in
``train_splits/``, ``dev_splits_complete/``, ``output_repeated_splits_test/`` named
``dia{Dialogue_ID}_utt{Utterance_ID}.mp4``. The CSV may sit in ``root`` or ``root/{split}``.

Without a clip folder (the shared ``../shared/data/meld`` holds only the CSVs) every item is text-only
and runs through the text path with the gold transcript. With one, a missing clip is excluded and counted.
Labels: the MELD map (joy -> happy; all seven map). ``split``: train, dev (default), test.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import InputNotFoundError
from emoreason.eval.datasets.base import (
    ItemCollector,
    LoadedDataset,
    dialogue_context,
    pick_split,
    read_csv_rows,
    require_dir,
)
from emoreason.labels import MELD

SPLITS = {"train": "train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}


def find_csv(root: Path, split: str, pattern: str) -> Path | None:
    for cand in (root / pattern.format(split=split), root / split / pattern.format(split=split)):
        if cand.is_file():
            return cand
    return None


class MeldAdapter:
    name = "meld"
    label_map = MELD
    modalities: tuple[str, ...] = ("face", "voice", "text")
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "meld root")
        which = pick_split(split, SPLITS, "dev", "meld")
        csv_path = find_csv(root, which, "{split}_sent_emo.csv")
        if csv_path is None:
            raise InputNotFoundError(f"meld: {which}_sent_emo.csv not found in {root} or {root / which}")
        rows = read_csv_rows(csv_path, ("Utterance", "Emotion", "Dialogue_ID", "Utterance_ID"), str(csv_path))
        clip_dir = next(
            (d for d in (root / SPLITS[which], csv_path.parent / SPLITS[which]) if d.is_dir()), None
        )
        col = ItemCollector(self, root, which)
        context = dialogue_context(rows, lambda r: r["Dialogue_ID"].strip(),
                                   lambda r: r["Utterance_ID"].strip(), lambda r: clean_text(r["Utterance"]))
        for row, ctx in zip(rows, context):
            d, u = row["Dialogue_ID"].strip(), row["Utterance_ID"].strip()
            item_id = f"dia{d}_utt{u}"
            path = clip_dir / f"{item_id}.mp4" if clip_dir is not None else None
            col.add(
                item_id,
                row["Emotion"],
                path=path,
                text=clean_text(row["Utterance"]),
                speaker=row.get("Speaker") or None,
                meta={"dialogue": d, "utterance": u, "sentiment": row.get("Sentiment", ""), "context": ctx},
            )
        if clip_dir is None:
            col.note(
                f"meld: no {SPLITS[which]}/ clip folder under {root}: text-only items (gold transcripts)"
            )
        data = col.done()
        if clip_dir is None:
            data.modalities = ("text",)
        return data


def clean_text(text: str) -> str:
    """MELD's CSVs carry mis-decoded punctuation (Windows-1252 read as Latin-1); undo the common cases."""
    fixes = {
        "\u0092": "'",
        "\u0091": "'",
        "\u0093": '"',
        "\u0094": '"',
        "\u0085": "...",
        "\u0097": "-",
        "\u0096": "-",
        "\u00a0": " ",
    }
    for bad, good in fixes.items():
        text = text.replace(bad, good)
    return " ".join(text.split())
