"""MER2023: the label CSVs (or a pickle-free label npz) plus the video folders.

Official release layout (as read by the organisers' MERTools ``normalize_dataset_format``):
``{train,test1,test2,test3}-label.csv`` with columns ``name, discrete, valence`` and videos in
``{split}/{name}.*``; the processed form has ``video/{name}.*`` and ``label-6way.npz`` with one dict per
split (``train_corpus``, ``test1_corpus`` ...) of ``name -> {"emo", "val"}``. That npz stores Python
objects, which numpy can only read by unpickling; we never unpickle a user's file, so an object npz is
refused with a message — use the CSVs, or an npz of plain arrays ``{split}_names``, ``{split}_emos``,
``{split}_vals``. Optional transcripts: ``transcription.csv`` (``name, chinese, english``); English is
used as the item's text.

Labels: the MER2023 map (worried -> fearful; six classes, no disgust). Valence (-5..5) is divided by 5;
test3 has none (the organisers write -10 there, read as missing). ``split``: train (default), test1,
test2, test3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets.base import ItemCollector, LoadedDataset, pick_split, read_csv_rows, require_dir
from emoreason.labels import MER2023

SPLITS = {"train": 0, "test1": 1, "test2": 2, "test3": 3}
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov")


class Mer2023Adapter:
    name = "mer2023"
    label_map = MER2023
    modalities: tuple[str, ...] = ("face", "voice", "text")
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "mer2023 root")
        which = pick_split(split, SPLITS, "train", "mer2023")
        labels = self._labels(root, which)
        texts = self._transcripts(root)
        video_dirs = [d for d in (root / which, root / "video") if d.is_dir()]
        if not video_dirs:
            raise InputNotFoundError(f"mer2023: neither {which}/ nor video/ folder under {root}")
        col = ItemCollector(self, root, which)
        for name, emo, val in labels:
            path = next(
                (
                    d / f"{name}{ext}"
                    for d in video_dirs
                    for ext in VIDEO_EXTS
                    if (d / f"{name}{ext}").is_file()
                ),
                video_dirs[0] / f"{name}.mp4",
            )
            valence = None if val is None or val <= -10 else max(-1.0, min(1.0, val / 5.0))
            col.add(name, emo, path=path, text=texts.get(name), valence=valence)
        return col.done()

    @staticmethod
    def _labels(root: Path, which: str) -> list[tuple[str, str, float | None]]:
        csv_path = root / f"{which}-label.csv"
        if csv_path.is_file():
            rows = read_csv_rows(csv_path, ("name", "discrete"), str(csv_path))
            return [(r["name"].strip(), r["discrete"], _float(r.get("valence", ""))) for r in rows]
        npz = root / "label-6way.npz"
        if not npz.is_file():
            raise InputNotFoundError(f"mer2023: neither {csv_path.name} nor label-6way.npz in {root}")
        try:
            with np.load(npz, allow_pickle=False) as z:
                keys = set(z.files)
                if f"{which}_corpus" in keys and f"{which}_names" not in keys:
                    raise ValueError("Object arrays cannot be loaded when allow_pickle=False")
                if f"{which}_names" not in keys:
                    raise ConfigError(f"mer2023: {npz.name} has no {which}_names array (has: {sorted(keys)})")
                names = [str(x) for x in z[f"{which}_names"]]
                emos = [str(x) for x in z[f"{which}_emos"]]
                vals = (
                    [float(x) for x in z[f"{which}_vals"]] if f"{which}_vals" in keys else [None] * len(names)
                )
        except ValueError as exc:
            if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                raise ConfigError(
                    f"mer2023: {npz.name} stores pickled Python objects, which emoreason does not "
                    f"load; point --root at the release with {which}-label.csv instead"
                ) from None
            raise ConfigError(f"mer2023: cannot read {npz}: {exc}") from None
        return list(zip(names, emos, vals))

    @staticmethod
    def _transcripts(root: Path) -> dict[str, str]:
        path = root / "transcription.csv"
        if not path.is_file():
            return {}
        rows = read_csv_rows(path, ("name",), str(path))
        return {r["name"].strip(): r.get("english", "").strip() for r in rows if r.get("english", "").strip()}


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
