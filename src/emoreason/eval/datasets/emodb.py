"""Berlin EmoDB: the file-name code.

Official layout (emodb.bilderbar.info, Burkhardt et al. 2005): ``wav/{SS}{TTT}{E}{V}.wav``, e.g.
``03a01Fa.wav`` — speaker SS (03, 08, 09, 10, 11, 12, 13, 14, 15, 16), text code TTT (a01..a07,
b01..b10), emotion letter E from the German name (W Ärger = anger, L Langeweile = boredom, E Ekel =
disgust, A Angst = fear, F Freude = happiness, T Trauer = sadness, N neutral) and version V.
The audio may also sit in ``audio/`` and be FLAC (``audio/03a01Fa.flac``, the layout of the shared
development copy); ``wav/`` is read first when both exist. Labels: the EmoDB map; boredom has no canonical
label and is excluded and counted. Voice only. ``split``: ``all`` (the only one).
"""

from __future__ import annotations

import re
from pathlib import Path

from emoreason.eval.datasets.base import ItemCollector, LoadedDataset, pick_split, require_dir
from emoreason.labels import EMODB

AUDIO_SUFFIXES = (".wav", ".flac")
NAME = re.compile(r"^(\d{2})([ab]\d{2})([WLEAFTN])([a-z])$")
LETTERS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}


class EmoDbAdapter:
    name = "emodb"
    label_map = EMODB
    modalities: tuple[str, ...] = ("voice",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "emodb root")
        pick_split(split, {"all": None}, "all", "emodb")
        folder = next((root / d for d in ("wav", "audio") if (root / d).is_dir()), root)
        col = ItemCollector(self, root, "all")
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
            m = NAME.match(path.stem)
            if not m:
                col.exclude("file name is not an EmoDB code")
                continue
            col.add(
                path.stem,
                LETTERS[m.group(3)],
                path=path,
                speaker=m.group(1),
                meta={"text_code": m.group(2), "version": m.group(4)},
            )
        return col.done()
