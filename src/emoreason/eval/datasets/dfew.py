"""DFEW: the five-fold split CSVs plus the clip folder.

Official layout (dfew-dataset.github.io; the split files as read by public DFER code such as
Former-DFER): ``EmoLabel_DataSplit/{train,test}(single-labeled)/set_{1..5}.csv`` with columns
``video_name,label`` where ``video_name`` is the clip number and ``label`` 1..7 = happy, sad, neutral,
angry, surprise, disgust, fear; clips as ``Clip/original/{n:05d}.mp4`` (part 1) or frame folders
``Clip/clip_224x224/{n:05d}/`` (part 2). A frame folder is passed on as the item's path; the pipeline
reads video files, so such items fail and are counted unless the folder is converted.

``split``: ``test1`` .. ``test5`` (default test1) or ``train1`` .. ``train5``. Labels: the DFEW map (all
seven map). Scored with UAR and WAR, the DFEW convention.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.eval.datasets.base import (
    ItemCollector,
    LoadedDataset,
    read_csv_rows,
    require_dir,
    require_file,
)
from emoreason.labels import DFEW

LABELS = {
    "1": "happy",
    "2": "sad",
    "3": "neutral",
    "4": "angry",
    "5": "surprise",
    "6": "disgust",
    "7": "fear",
}
VIDEO_EXTS = (".mp4", ".avi")


def parse_fold(split: str | None, default: str, what: str) -> tuple[str, int]:
    text = (split or default).strip().lower()
    for part in ("train", "test"):
        if text.startswith(part) and text[len(part) :] in {"1", "2", "3", "4", "5"}:
            return part, int(text[len(part) :])
    raise ConfigError(f"{what}: split must be test1..test5 or train1..train5, got {split!r}")


class DfewAdapter:
    name = "dfew"
    label_map = DFEW
    modalities: tuple[str, ...] = ("face",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "dfew root")
        part, fold = parse_fold(split, "test1", "dfew")
        csv_path = require_file(
            root / "EmoLabel_DataSplit" / f"{part}(single-labeled)" / f"set_{fold}.csv", "dfew split file"
        )
        rows = read_csv_rows(csv_path, ("video_name", "label"), str(csv_path))
        col = ItemCollector(self, root, f"{part}{fold}")
        for row in rows:
            raw = row["video_name"].strip()
            name = f"{int(raw):05d}" if raw.isdigit() else raw
            code = row["label"].strip()
            if code not in LABELS:
                col.exclude(f"unrecognised label: {code}")
                continue
            col.add(name, LABELS[code], path=self._clip(root, name))
        return col.done()

    @staticmethod
    def _clip(root: Path, name: str) -> Path:
        for ext in VIDEO_EXTS:
            p = root / "Clip" / "original" / f"{name}{ext}"
            if p.is_file():
                return p
        frames = root / "Clip" / "clip_224x224" / name
        return frames if frames.is_dir() else root / "Clip" / "original" / f"{name}.mp4"
