"""Any face set in class folders: ``root/<label>/*.{png,jpg,jpeg,bmp,webp,tif,tiff}``.

Each folder directly under ``root`` is a label; every image below it (sub-folders included) is an item
whose id is its path relative to ``root``. Folder names are read, case-insensitively, through the csv
manifest's map (:data:`~emoreason.eval.datasets.manifest.MANIFEST_LABELS`: canonical names plus the common
spellings -- happiness, joy, anger, fear, surprise, calm -> neutral ...), or through a named map of
``emoreason.labels`` chosen with ``--label-set`` (e.g. ``ck+``). A folder the map knows but cannot map
(contempt) is excluded and counted; a folder name the map does not know at all is a ConfigError naming
every such folder, before anything runs. Hidden folders and files (``.name``) are skipped; other files
are counted as "not an image". Face only. ``split``: ``all``.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.eval.datasets.base import IMAGE_EXTS, ItemCollector, LoadedDataset, pick_split, require_dir
from emoreason.eval.datasets.manifest import MANIFEST_LABELS
from emoreason.labels import LabelMap, get_label_map


class ImageFolderAdapter:
    name = "image_folder"
    modalities: tuple[str, ...] = ("face",)
    layout = __doc__ or ""

    def __init__(self, label_set: str | None = None) -> None:
        self.label_map: LabelMap = get_label_map(label_set) if label_set else MANIFEST_LABELS

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "image_folder root")
        pick_split(split, {"all": None}, "all", "image_folder")
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not folders:
            raise ConfigError(f"image_folder: no class folders under {root} (expected {root}/<label>/*.png)")
        unknown = [p.name for p in folders if p.name.strip().lower() not in self.label_map.to_canonical]
        if unknown:
            raise ConfigError(
                f"image_folder: folder name(s) {', '.join(repr(u) for u in unknown)} under {root} are not "
                f"{self.label_map.name} labels; name each folder one of: {', '.join(self.label_map.labels)}")
        col = ItemCollector(self, root, "all")
        for folder in folders:
            for f in sorted(folder.rglob("*")):
                rel = f.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                    continue
                if f.suffix.lower() not in IMAGE_EXTS:
                    col.exclude("not an image (by extension)")
                    continue
                col.add(rel.as_posix(), folder.name, path=f)
        return col.done()
