"""MAFW: the single-label five-fold split lists plus the clip folder.

Official layout (github.com/MAFW-database/MAFW; the split lists as read by public MAFW loaders):
``Train & Test Set/single/no_caption/set_{1..5}/{train,test}.txt``, one ``{clip file} {label}`` per line
(e.g. ``00025.mp4 anger``), clips in ``data/clips/``. Labels: anger, disgust, fear, happiness, neutral,
sadness, surprise, contempt, anxiety, helplessness, disappointment; the last four have no canonical
label and are excluded and counted (so the score covers seven of MAFW's eleven classes: say so when
comparing with 11-class numbers). ``split``: ``test1`` .. ``test5`` (default test1), ``train1`` .. ``train5``.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.eval.datasets.base import ItemCollector, LoadedDataset, require_dir, require_file
from emoreason.eval.datasets.dfew import parse_fold
from emoreason.labels import MAFW


class MafwAdapter:
    name = "mafw"
    label_map = MAFW
    modalities: tuple[str, ...] = ("face", "voice")
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "mafw root")
        part, fold = parse_fold(split, "test1", "mafw")
        lst = require_file(
            root / "Train & Test Set" / "single" / "no_caption" / f"set_{fold}" / f"{part}.txt",
            "mafw split list",
        )
        clips = root / "data" / "clips"
        col = ItemCollector(self, root, f"{part}{fold}")
        for line in lst.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split()
            if len(fields) < 2:
                if fields:
                    col.exclude("malformed split line")
                continue
            clip, label = fields[0], fields[-1]
            col.add(Path(clip).stem, label, path=clips / clip)
        return col.done()
