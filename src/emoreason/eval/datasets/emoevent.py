"""EmoEvent (tweets about eight events, English and Spanish): the per-language TSV files.

Layout (github.com/fmplaza/EmoEvent, as in ``../shared/data/emoevent``): ``<lang>/{train,dev,test}.tsv``
with columns ``id, event, tweet, offensive, emotion`` (tab-separated, no quoting). ``root`` is the folder
holding ``en/`` and ``es/``, or one language folder. The shared folder has no test files: a user holding
``test.tsv`` puts it beside the others and asks for ``--split test``.

Text only. Labels: the EMOEVENT map (joy -> happy, others -> neutral; all seven map). Splits: ``train``,
``dev`` (default), ``test`` are the files; ``heldout-train``, ``heldout-dev``, ``heldout-test`` hold out
whole events from the pooled train and dev files (see :func:`text_corpora.emoevent_event_split`; a model
trained on ``heldout-train`` has seen most of ``dev``). Add ``:en`` or ``:es`` to keep one language.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.eval.datasets.base import LoadedDataset, require_dir
from emoreason.eval.datasets.text_corpora import read_emoevent
from emoreason.eval.datasets.text_items import parse_split, rows_to_dataset
from emoreason.labels import EMOEVENT

SPLITS = ("train", "dev", "test", "heldout-train", "heldout-dev", "heldout-test")


class EmoEventAdapter:
    name = "emoevent"
    label_map = EMOEVENT
    modalities: tuple[str, ...] = ("text",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "emoevent root")
        name, languages = parse_split(split, SPLITS, "dev", "emoevent")
        if name.startswith("heldout-"):
            data = read_emoevent(root, scheme="event")
            keep = name.removeprefix("heldout-")
        else:
            data = read_emoevent(root, scheme="official", files=(name,))
            keep = name
        return rows_to_dataset(self, root, name, data, keep, languages)
