"""Tiny fake corpora laid out like ``../shared/data`` (RAVDESS speech, FER+, MELD): the compact-data tests."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the scripted perceiver by name (fake_compact_perception:perceive)
    sys.path.insert(0, str(HERE))

RAVDESS_EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
STATEMENTS = ("Kids are talking by the door", "Dogs are sitting by the door")
FER_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
               "unknown", "NF")


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _ravdess(root: Path) -> None:
    rows = []
    for actor in range(1, 19):
        for e, emo in enumerate(RAVDESS_EMOTIONS, 1):
            for s in (1, 2):
                rel = f"audio/Actor_{actor:02d}/03-01-{e:02d}-01-{s:02d}-01-{actor:02d}.flac"
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_bytes(b"fLaC")  # never decoded: the tests' perceiver is scripted
                rows.append([rel, emo, "normal", STATEMENTS[s - 1], 1, actor, "male"])
    header = ["path", "emotion", "intensity", "statement", "repetition", "actor", "sex"]
    _write_csv(root / "labels.csv", header, rows)


def _ferplus(root: Path) -> None:
    # per split: (majority class, count); plus one contempt, one NF and one no-majority image (dropped)
    plan = {"train": [("neutral", 30), ("happiness", 20), ("sadness", 6), ("disgust", 2), ("contempt", 1),
                      ("NF", 1)],
            "valid": [("neutral", 5), ("happiness", 5), ("fear", 2)]}
    for split, classes in plan.items():
        rows, n = [], 0
        for cls, count in classes:
            for _ in range(count):
                votes = [0] * len(FER_COLUMNS)
                votes[FER_COLUMNS.index(cls)] = 8
                votes[FER_COLUMNS.index("neutral" if cls != "neutral" else "happiness")] += 2
                rel = f"{split}/fer{n:07d}.png"
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_bytes(b"\x89PNG")
                rows.append([rel, cls, *votes])
                n += 1
        rel = f"{split}/fer{n:07d}.png"  # 5 neutral / 5 happy: no class holds more than half
        (root / rel).write_bytes(b"\x89PNG")
        rows.append([rel, "neutral", 5, 5, 0, 0, 0, 0, 0, 0, 0, 0])
        _write_csv(root / f"{split}_labels.csv", ["path", "majority", *FER_COLUMNS], rows)


def _meld(root: Path) -> None:
    emotions = ("neutral", "joy", "sadness", "anger", "neutral", "surprise", "fear", "disgust", "neutral")
    for split, dialogues in (("train", 6), ("dev", 2)):
        rows, sr = [], 1
        for d in range(dialogues):
            for u, emo in enumerate(emotions):
                rows.append([sr, f"{split} dialogue {d} line {u} says something", "Ross", emo, "neutral",
                             d, u, 1, 1, "00:00:01,000", "00:00:02,000"])
                sr += 1
        _write_csv(root / f"{split}_sent_emo.csv",
                   ["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID",
                    "Season", "Episode", "StartTime", "EndTime"], rows)


@pytest.fixture(scope="session")
def fake_data(tmp_path_factory) -> Path:
    """A ``shared/data`` look-alike: ravdess_speech/ (18 actors x 16 clips), ferplus/, meld/."""
    root = tmp_path_factory.mktemp("shared_data")
    _ravdess(root / "ravdess_speech")
    _ferplus(root / "ferplus")
    _meld(root / "meld")
    return root
