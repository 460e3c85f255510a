"""CK+ (Extended Cohn-Kanade): the official image/label folders, or one folder per class.

Official layout (Lucey et al. 2010, the CK+ release README): ``cohn-kanade-images/S005/001/
S005_001_00000011.png`` frames and ``Emotion/S005/001/S005_001_00000011_emotion.txt`` holding one number
(0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise) for the sequence's
last (peak) frame; sequences without an emotion file were not validated and are excluded and counted.
The item is the peak frame. Class-folder layout (as in the CK+48 redistributions): ``{anger, contempt,
disgust, fear, happy, sadness, surprise, neutral}/*.png``; every image is an item.
Labels: the CK+ map; contempt has no canonical label (excluded, counted). Face only. ``split``: ``all``.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.eval.datasets.base import IMAGE_EXTS, ItemCollector, LoadedDataset, pick_split, require_dir
from emoreason.labels import CK_PLUS

CODES = {
    0: "neutral",
    1: "anger",
    2: "contempt",
    3: "disgust",
    4: "fear",
    5: "happy",
    6: "sadness",
    7: "surprise",
}


class CkPlusAdapter:
    name = "ck+"
    label_map = CK_PLUS
    modalities: tuple[str, ...] = ("face",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "ck+ root")
        pick_split(split, {"all": None}, "all", "ck+")
        col = ItemCollector(self, root, "all")
        if (root / "Emotion").is_dir() and (root / "cohn-kanade-images").is_dir():
            self._official(root, col)
        else:
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                for img in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS):
                    col.add(f"{folder.name}/{img.name}", folder.name, path=img)
        return col.done()

    @staticmethod
    def _official(root: Path, col: ItemCollector) -> None:
        images = root / "cohn-kanade-images"
        labelled = {}
        for f in (root / "Emotion").glob("*/*/*_emotion.txt"):
            labelled[(f.parent.parent.name, f.parent.name)] = f
        for seq in sorted(p for p in images.glob("*/*") if p.is_dir()):
            key = (seq.parent.name, seq.name)
            frames = sorted(p for p in seq.iterdir() if p.suffix.lower() in IMAGE_EXTS)
            if not frames:
                continue
            if key not in labelled:
                col.exclude("sequence without an emotion label (not validated)")
                continue
            try:
                code = int(float(labelled[key].read_text().split()[0]))
            except (ValueError, IndexError):
                col.exclude("unreadable emotion file")
                continue
            if code not in CODES:
                col.exclude(f"unrecognised label: {code}")
                continue
            col.add(f"{key[0]}_{key[1]}", CODES[code], path=frames[-1], speaker=key[0])
