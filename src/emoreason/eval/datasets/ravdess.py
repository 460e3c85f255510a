"""RAVDESS: the official file-name code, or the shared folder's ``labels.csv``.

Official layout (Livingstone & Russo 2018; the README shipped with the Zenodo record): folders
``Actor_01`` .. ``Actor_24`` holding ``MM-VV-EE-II-SS-RR-AA.{wav,mp4}`` where MM modality (01 full AV,
02 video only, 03 audio only), VV vocal channel (01 speech, 02 song), EE emotion (01 neutral, 02 calm,
03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised), II intensity (01 normal, 02 strong),
SS statement (01 "Kids are talking by the door", 02 "Dogs are sitting by the door"), RR repetition,
AA actor (odd male, even female). Any folder nesting above ``Actor_XX`` is accepted.

Shared layout (``../shared/data/ravdess_speech``): ``labels.csv`` with columns
``path,emotion,intensity,statement,repetition,actor,sex`` and paths relative to the CSV.

Labels: the RAVDESS map in emoreason.labels (calm -> neutral; every class maps). ``split`` selects actors:
``all`` (default) or ``actors:19-24`` / ``actors:1,3,5``.
"""

from __future__ import annotations

import re
from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.eval.datasets.base import (
    ItemCollector,
    LoadedDataset,
    media_modalities,
    read_csv_rows,
    require_dir,
)
from emoreason.labels import RAVDESS

CODE = re.compile(r"^(0[1-3])-(0[12])-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d{2})$")
EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
MEDIA_EXTS = {".wav", ".mp4", ".flac"}


def parse_actor_split(split: str | None) -> set[int] | None:
    """``all``/None -> every actor; ``actors:19-24`` or ``actors:1,3`` -> that set."""
    if split is None or split.strip().lower() in ("", "all"):
        return None
    text = split.strip().lower()
    if not text.startswith("actors:"):
        raise ConfigError(f"ravdess: split must be 'all' or 'actors:A-B' / 'actors:A,B,..', got {split!r}")
    actors: set[int] = set()
    try:
        for part in text[len("actors:") :].split(","):
            if "-" in part:
                a, b = part.split("-", 1)
                actors.update(range(int(a), int(b) + 1))
            elif part.strip():
                actors.add(int(part))
    except ValueError:
        raise ConfigError(f"ravdess: cannot read actor list in split {split!r}") from None
    return actors


class RavdessAdapter:
    name = "ravdess"
    label_map = RAVDESS
    modalities: tuple[str, ...] = ("face", "voice")
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = Path(root)
        if root.is_file() and root.suffix.lower() == ".csv":
            return self._load_csv(root, split)
        root = require_dir(root, "ravdess root")
        if (root / "labels.csv").is_file():
            return self._load_csv(root / "labels.csv", split)
        return self._load_codes(root, split)

    def _load_codes(self, root: Path, split: str | None) -> LoadedDataset:
        actors = parse_actor_split(split)
        col = ItemCollector(self, root, split)
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in MEDIA_EXTS and p.is_file())
        for path in files:
            m = CODE.match(path.stem)
            if not m:
                col.exclude("file name is not a RAVDESS code")
                continue
            modality, channel, emo, intensity, statement, rep, actor = m.groups()
            if actors is not None and int(actor) not in actors:
                continue
            col.add(
                path.stem + path.suffix.lower(),
                EMOTIONS[emo],
                path=path,
                speaker=f"Actor_{actor}",
                meta={
                    "intensity": "strong" if intensity == "02" else "normal",
                    "statement": STATEMENTS[statement],
                    "repetition": int(rep),
                    "vocal_channel": "song" if channel == "02" else "speech",
                    "media": {"01": "audio-video", "02": "video-only", "03": "audio-only"}[modality],
                },
            )
        return self._finish(col)

    def _load_csv(self, csv_path: Path, split: str | None) -> LoadedDataset:
        actors = parse_actor_split(split)
        col = ItemCollector(self, csv_path.parent, split)
        rows = read_csv_rows(csv_path, ("path", "emotion"), "ravdess labels.csv")
        for row in rows:
            actor = row.get("actor", "")
            if actors is not None and actor.isdigit() and int(actor) not in actors:
                continue
            path = csv_path.parent / row["path"]
            col.add(
                Path(row["path"]).name,
                row["emotion"],
                path=path,
                speaker=f"Actor_{int(actor):02d}" if actor.isdigit() else None,
                meta={k: row[k] for k in ("intensity", "statement", "repetition", "sex") if k in row},
            )
        return self._finish(col)

    def _finish(self, col: ItemCollector) -> LoadedDataset:
        data = col.done()
        data.modalities = tuple(m for m in media_modalities([it.path for it in data.items]) if m != "text")
        return data
