"""CPED (Chinese TV-series dialogue, 13 emotions): the official split CSVs.

Layout (github.com/scutcyr/CPED, as in ``../shared/data/cped``): ``{train,valid,test}_split.csv`` with
columns ``TV_ID, Dialogue_ID, Utterance_ID, Speaker, ..., Sentiment, Emotion, DA, Utterance``. The shared
folder holds only ``valid_split.csv``; a user holding ``test_split.csv`` puts it beside it and asks for
``--split test``.

Text only (Chinese). Labels: the CPED map — depress -> sad, worried -> fearful, astonished -> surprised;
relaxed, grateful, positive-other and negative-other have no canonical label (excluded, counted). Splits:
``train``, ``valid``, ``test`` are the files; ``heldout-train``, ``heldout-dev`` (default),
``heldout-test`` are ``valid_split.csv`` split by dialogue (hashed, as in
:mod:`emoreason.eval.datasets.text_corpora`), for models trained on ``heldout-train``.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.eval.datasets.base import LoadedDataset, require_dir
from emoreason.eval.datasets.text_corpora import read_cped
from emoreason.eval.datasets.text_items import parse_split, rows_to_dataset
from emoreason.labels import CPED

SPLITS = ("train", "valid", "test", "heldout-train", "heldout-dev", "heldout-test")


class CpedAdapter:
    name = "cped"
    label_map = CPED
    modalities: tuple[str, ...] = ("text",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "cped root")
        name, languages = parse_split(split, SPLITS, "heldout-dev", "cped")
        if name.startswith("heldout-"):
            data, keep = read_cped(root), name.removeprefix("heldout-")
        else:
            data, keep = read_cped(root, f"{name}_split.csv"), None
        return rows_to_dataset(self, root, name, data, keep, languages)
