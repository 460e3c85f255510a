"""Text-emotion training data: MELD (and, to try as extra training data, EmoryNLP and GoEmotions-Ekman)
mapped onto the canonical labels.

Items whose label has no canonical counterpart are excluded and counted, never guessed.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError
from emoreason.labels import CANONICAL, EMORYNLP, GOEMOTIONS_EKMAN, MELD
from emoreason.perception.text.sentence_encoder import normalise_text


@dataclass
class TextSet:
    """Utterances with canonical label indices and, for dialogues, the preceding utterance."""

    name: str
    texts: list[str]
    labels: np.ndarray  # int index into CANONICAL
    previous: list[str]  # preceding utterance in the same dialogue ("" when none)
    excluded: Counter = field(default_factory=Counter)
    history: list[list[str]] = field(default_factory=list)  # all preceding utterances, oldest first


def _need(path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(f"training data not found: {path} (give --data pointing at the shared data folder)")
    return path


def load_dialogue_csv(path: Path, name: str, label_col: str, dialogue_cols: tuple[str, ...],
                      turn_col: str, label_map) -> TextSet:
    """A MELD/EmoryNLP-style CSV: one utterance per row, grouped into dialogues by ``dialogue_cols``."""
    with open(_need(path), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: (tuple(int(r[c]) for c in dialogue_cols), int(r[turn_col])))
    texts, labels, previous, histories, excluded = [], [], [], [], Counter()
    last_key, last_text, dialogue = None, "", []
    for r in rows:
        key = tuple(r[c] for c in dialogue_cols)
        prev = last_text if key == last_key else ""
        if key != last_key:
            dialogue = []
        history = list(dialogue)
        text = normalise_text(r["Utterance"])
        last_key, last_text = key, text
        dialogue.append(text)
        canon = label_map.canonical(r[label_col])
        if canon is None:
            excluded[r[label_col].lower()] += 1
            continue
        texts.append(text)
        labels.append(CANONICAL.index(canon))
        previous.append(prev)
        histories.append(history)
    return TextSet(name, texts, np.asarray(labels, dtype=np.int64), previous, excluded, histories)


def load_meld(data: Path, split: str) -> TextSet:
    return load_dialogue_csv(Path(data) / "meld" / f"{split}_sent_emo.csv", f"meld-{split}", "Emotion",
                             ("Dialogue_ID",), "Utterance_ID", MELD)


def load_emorynlp(data: Path, split: str) -> TextSet:
    return load_dialogue_csv(Path(data) / "emorynlp" / f"emorynlp_{split}_final.csv", f"emorynlp-{split}",
                             "Emotion", ("Season", "Episode", "Scene_ID"), "Utterance_ID", EMORYNLP)


def load_goemotions(data: Path, split: str) -> TextSet:
    """GoEmotions, Ekman grouping; only single-label comments are kept (multi-label ones are counted)."""
    folder = Path(data) / "goemotions" / "ekman"
    names = _need(folder / "labels.txt").read_text(encoding="utf-8").split()
    texts, labels, excluded = [], [], Counter()
    with open(_need(folder / f"{split}.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            ids = parts[1].split(",")
            if len(ids) != 1:
                excluded["multi-label"] += 1
                continue
            canon = GOEMOTIONS_EKMAN.canonical(names[int(ids[0])])
            texts.append(normalise_text(parts[0]))
            labels.append(CANONICAL.index(canon))
    return TextSet(f"goemotions-{split}", texts, np.asarray(labels, dtype=np.int64), [""] * len(texts),
                   excluded)
