"""The two speech corpora of the cross-corpus protocol (RAVDESS, EmoDB) as one table, with shared labels.

:func:`load_corpus` reads a corpus's ``labels.csv`` from the shared data folder into one table whose
columns every split and feature function reads: ``path`` (relative, the feature cache's key), ``file``
(absolute), ``corpus``, ``speaker`` (prefixed by the corpus: ``rav01``, ``emo03``), ``sex``, ``sentence``
(prefixed likewise), ``emotion`` (the corpus's own label) and ``label`` (the shared class, or None).

The shared classes (:data:`SHARED`) are the six that both corpora act: angry, happy, sad, neutral, fearful,
disgust. RAVDESS's **calm** and **surprised** and EmoDB's **boredom** have no counterpart in the other corpus
and get ``label`` None: they are left out of every training and test set of the protocol (calm is not
merged into neutral, as the shipped 8-class model's canonical map does, so that neutral means the same
acted category in both corpora). :data:`FOUR` is the 4-class view (angry, happy, neutral, sad).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emoreason.errors import ConfigError

SHARED = ("angry", "happy", "sad", "neutral", "fearful", "disgust")
FOUR = ("angry", "happy", "neutral", "sad")
# the corpus's own label -> the shared class (None: left out of the protocol)
RAVDESS_MAP = {"neutral": "neutral", "calm": None, "happy": "happy", "sad": "sad", "angry": "angry",
               "fearful": "fearful", "disgust": "disgust", "surprised": None}
EMODB_MAP = {"anger": "angry", "boredom": None, "disgust": "disgust", "fear": "fearful",
             "happiness": "happy", "sadness": "sad", "neutral": "neutral"}
# the shared class -> the canonical label a model's output is scored with (emoreason.labels.CANONICAL)
SHARED_TO_CANONICAL = {"angry": "angry", "happy": "happy", "sad": "sad", "neutral": "neutral",
                       "fearful": "fearful", "disgust": "disgusted"}
# EmoDB's speakers' sex (Burkhardt et al. 2005: 5 women, 5 men)
EMODB_SEX = {"03": "male", "08": "female", "09": "female", "10": "male", "11": "male", "12": "male",
             "13": "female", "14": "female", "15": "male", "16": "female"}
FOLDERS = {"ravdess": "ravdess_speech", "emodb": "emodb"}


def _read(data: str | Path, corpus: str) -> tuple[Path, pd.DataFrame]:
    if corpus not in FOLDERS:
        raise ConfigError(f"unknown corpus {corpus!r}; choose one of {', '.join(FOLDERS)}")
    root = Path(data) / FOLDERS[corpus]
    table = root / "labels.csv"
    if not table.is_file():
        raise ConfigError(f"no {corpus} table at {table} (give --data the shared data folder)")
    return root, pd.read_csv(table, dtype=str)


def load_corpus(data: str | Path, corpus: str) -> pd.DataFrame:
    """One corpus's clips (sorted by path) with the protocol's columns (module docstring)."""
    root, df = _read(data, corpus)
    out = pd.DataFrame({"path": df["path"], "file": [str(root / p) for p in df["path"]], "corpus": corpus})
    if corpus == "ravdess":
        out["speaker"] = [f"rav{int(a):02d}" for a in df["actor"]]
        out["sex"] = df["sex"].to_numpy()
        out["sentence"] = ["rav-" + s for s in df["statement"]]
        mapping = RAVDESS_MAP
    else:
        unknown = set(df["speaker"].str.zfill(2)) - set(EMODB_SEX)
        if unknown:
            raise ConfigError(f"EmoDB table names unknown speakers {sorted(unknown)}")
        out["speaker"] = ["emo" + s.zfill(2) for s in df["speaker"]]
        out["sex"] = [EMODB_SEX[s.zfill(2)] for s in df["speaker"]]
        out["sentence"] = ["emo-" + t for t in df["text_id"]]
        mapping = EMODB_MAP
    bad = set(df["emotion"]) - set(mapping)
    if bad:
        raise ConfigError(f"{corpus} table has labels outside its map: {sorted(bad)}")
    out["emotion"] = df["emotion"].to_numpy()
    out["label"] = [mapping[e] for e in df["emotion"]]
    return out.sort_values("path").reset_index(drop=True)


def load_both(data: str | Path) -> pd.DataFrame:
    """RAVDESS then EmoDB, every clip (the feature cache's tables are each corpus's own, in this order)."""
    return pd.concat([load_corpus(data, "ravdess"), load_corpus(data, "emodb")], ignore_index=True)
