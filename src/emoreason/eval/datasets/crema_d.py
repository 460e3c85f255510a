"""CREMA-D: file-name codes, or the crowd votes in ``processedResults/summaryTable.csv``.

Official layout (github.com/CheyneyComputerScience/CREMA-D, README): ``AudioWAV/{actor}_{sentence}_
{emotion}_{level}.wav`` and ``VideoFlash/*.flv`` with actor 1001-1091, sentence one of twelve codes
(IEO, TIE, IOM, IWW, TAI, MTI, IWL, ITH, DFA, ITS, TSI, WSI), emotion ANG/DIS/FEA/HAP/NEU/SAD, level
LO/MD/HI/XX. ``processedResults/summaryTable.csv`` has columns ``FileName, VoiceVote, VoiceLevel,
FaceVote, FaceLevel, MultiModalVote, MultiModalLevel``; a vote is one letter (A, D, F, H, N, S) or
several joined by ':' when raters tied.

``split``: ``acted`` (default; the intended emotion in the file name, media: video if present else
audio), ``voice`` (VoiceVote, audio files), ``face`` (FaceVote, video files), ``multimodal``
(MultiModalVote, video files). A tied vote is excluded and counted, never broken by guessing.
Labels: the CREMA-D map (anger, disgust, fear, happy, neutral, sad; no surprise class).
"""

from __future__ import annotations

import re
from pathlib import Path

from emoreason.eval.datasets.base import (
    ItemCollector,
    LoadedDataset,
    media_modalities,
    pick_split,
    read_csv_rows,
    require_dir,
    require_file,
)
from emoreason.labels import CREMA_D

NAME = re.compile(r"^(\d{4})_([A-Z]{3})_(ANG|DIS|FEA|HAP|NEU|SAD)_(LO|MD|HI|XX|X)$")
CODES = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
VOTES = {"A": "anger", "D": "disgust", "F": "fear", "H": "happy", "N": "neutral", "S": "sad"}
SPLITS = {"acted": None, "voice": "VoiceVote", "face": "FaceVote", "multimodal": "MultiModalVote"}
VIDEO_EXTS = (".flv", ".mp4")


class CremaDAdapter:
    name = "crema-d"
    label_map = CREMA_D
    modalities: tuple[str, ...] = ("face", "voice")
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "crema-d root")
        which = pick_split(split, SPLITS, "acted", "crema-d")
        audio_dir, video_dir = root / "AudioWAV", root / "VideoFlash"
        if not audio_dir.is_dir() and not video_dir.is_dir():
            require_dir(audio_dir, "crema-d AudioWAV folder")
        col = ItemCollector(self, root, which)
        votes: dict[str, str] | None = None
        if SPLITS[which]:
            table = require_file(root / "processedResults" / "summaryTable.csv", "crema-d summaryTable.csv")
            rows = read_csv_rows(table, ("FileName", SPLITS[which]), "crema-d summaryTable.csv")
            votes = {r["FileName"].strip(): r[SPLITS[which]].strip() for r in rows}
        names = sorted(
            {
                p.stem
                for d in (audio_dir, video_dir)
                if d.is_dir()
                for p in d.iterdir()
                if p.suffix.lower() in (".wav", *VIDEO_EXTS)
            }
        )
        for stem in names:
            m = NAME.match(stem)
            if not m:
                col.exclude("file name is not a CREMA-D code")
                continue
            path = self._media(stem, audio_dir, video_dir, which)
            if path is None:
                col.exclude(f"no {'audio' if which == 'voice' else 'video'} file for this split")
                continue
            if votes is None:
                source = CODES[m.group(3)]
            else:
                vote = votes.get(stem)
                if vote is None:
                    col.exclude("not in summaryTable.csv")
                    continue
                if ":" in vote or vote not in VOTES:
                    col.exclude(f"crowd vote tied or unknown ({SPLITS[which]})")
                    continue
                source = VOTES[vote]
            col.add(
                stem,
                source,
                path=path,
                speaker=m.group(1),
                meta={"sentence": m.group(2), "acted": CODES[m.group(3)], "level": m.group(4)},
            )
        data = col.done()
        data.modalities = tuple(x for x in media_modalities([it.path for it in data.items]) if x != "text")
        return data

    @staticmethod
    def _media(stem: str, audio_dir: Path, video_dir: Path, which: str) -> Path | None:
        wav = audio_dir / f"{stem}.wav"
        videos = [video_dir / f"{stem}{ext}" for ext in VIDEO_EXTS]
        video = next((v for v in videos if v.is_file()), None)
        if which == "voice":
            return wav if wav.is_file() else None
        if which in ("face", "multimodal"):
            return video
        return video or (wav if wav.is_file() else None)
