"""Feature extraction for the voice model's training, cached under /tmp so reruns are quick.

Each clip of a corpus table (RAVDESS's ``load_ravdess``, or any table with ``path`` and ``file`` columns:
:mod:`emoreason.training.voice.corpora`) is cut to its speech (first to last VAD segment, as the pipeline
would see it), level-normalised as the voice stage does (``level_db``; ``None``: the level as recorded),
then described by pooled Whisper encoder states -- ``whisper``: tiny.en's final states; ``layers``: each
of tiny.en's four blocks' outputs (``POOLED_LAYERS``); ``base``: each of the multilingual Whisper base's
six blocks' outputs (``BASE_LAYERS``) -- and log-mel functionals (:mod:`emoreason.perception.voice.embedding`)
and by prosody functionals (:mod:`emoreason.perception.voice.prosody`); the frame network reads block
``FRAME_LAYER``'s states frame by frame (:func:`extract_frames`). Augmented views play the clip at another
speed, add noise, or pass it through a random band-pass or room; channel views (test only) pass it through
a telephone line, a room, pink noise or a level change. The cache key covers the clip list and the feature
kind; delete the cache folder to recompute.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_write
from emoreason.io.audio import SAMPLE_RATE, ArrayAudio
from emoreason.perception.speech.vad import detect_speech
from emoreason.perception.voice.embedding import (
    WhisperVoiceEmbedder,
    apply_gain_db,
    change_speed,
    normalise_level,
)
from emoreason.perception.voice.prosody import COLUMNS, prosody_features
from emoreason.training.voice import channels

log = logging.getLogger(__name__)

SPEEDS = (0.8, 0.9, 0.95, 1.05, 1.1, 1.2)  # tape-speed augmentations
VIEW_SUFFIXES = ("", *(f"_speed{s}" for s in SPEEDS), "_noise", "_band", "_room")
CHANNELS = ("telephone", "reverb", "pink", "quiet")  # test-only recording channels (channels.py)
CHANNEL_SUFFIXES = tuple(f"_{c}" for c in CHANNELS)
BLOCKS = ("whisper", "layers", "mel", "base")
KINDS = ("whisper_padded", "prosody", *(f"prosody{v}" for v in CHANNEL_SUFFIXES),
         *(f"{block}_exact{v}" for block in BLOCKS for v in VIEW_SUFFIXES + CHANNEL_SUFFIXES))
POOLED_LAYERS = (0, 1, 2, 3)  # the "layers" block: Whisper tiny.en's four blocks, pooled
BASE_LAYERS = (0, 1, 2, 3, 4, 5)  # the "base" block: multilingual Whisper base's six blocks, pooled
FRAME_LAYER = 1  # the frame network's input: the output of the encoder's block 1
ENCODER_TAG = "np2"  # in the file names of encoder-derived caches: the numpy encoder (whisper_encoder.py)
NOISE_SNR_DB = (10.0, 30.0)  # white noise at a random SNR in this range, seeded by the clip's index
REVERB_RT60 = 0.5  # the "reverb" channel: seconds; a room impulse seeded by the clip's index
PINK_SNR_DB = 10.0  # the "pink" channel
QUIET_DB = -20.0  # the "quiet" channel
CACHE_DIR = Path(os.environ.get("EMOREASON_CACHE", Path(tempfile.gettempdir()) / "emoreason_cache")) / "voice"
FEATURE_VERSION = "1"
LEVEL_DB = -30.0  # every segment's active speech level is set to this (dB re full scale) before features


def load_ravdess(data: str | Path):
    """The RAVDESS speech table (``labels.csv``) with absolute paths; raises ConfigError if missing."""
    root = Path(data) / "ravdess_speech"
    table = root / "labels.csv"
    if not table.is_file():
        raise ConfigError(f"no RAVDESS speech table at {table} (give --data the shared data folder)")
    df = pd.read_csv(table)
    df["file"] = [str(root / p) for p in df["path"]]
    return df.sort_values("path").reset_index(drop=True)


def speech_span(samples: np.ndarray) -> tuple[float, float]:
    """First speech start to last speech end (the whole clip if the VAD finds none)."""
    audio = ArrayAudio(samples)
    segs = detect_speech(audio)
    if not segs:
        return 0.0, audio.duration
    return segs[0][0], segs[-1][1]


def read_clip(path: str) -> np.ndarray:
    """A clip's samples, mono 16 kHz float32."""
    x, sr = sf.read(path, dtype="float32", always_2d=False)
    return ArrayAudio(x, sr).samples if sr != SAMPLE_RATE or x.ndim > 1 else x


def extract(df, kind: str, cache_dir: Path = CACHE_DIR, level_db: float | None = LEVEL_DB) -> np.ndarray:
    """Feature matrix (one row per clip of ``df``) of ``kind``; read from the cache when present.
    ``level_db``: the segments' active speech level (None: as recorded)."""
    if kind not in KINDS:
        raise ConfigError(f"unknown feature kind {kind!r}")
    key = hashlib.sha1(("\n".join(df["path"]) + FEATURE_VERSION).encode()).hexdigest()[:12]
    tag = _level_tag(level_db) + ("" if kind.startswith(("mel", "prosody")) else f"{ENCODER_TAG}_")
    path = cache_dir / f"{kind}_{tag}{key}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    spans = _spans(df, cache_dir, key)
    if kind.startswith("prosody"):
        augment = kind[len("prosody_"):]
        rows = []
        for i, (f, (a, b)) in enumerate(zip(df["file"], spans)):
            feats = prosody_features(_segment(f, a, b, augment, i, level_db))
            rows.append([feats[c] for c in COLUMNS])
        out = np.asarray(rows, dtype=np.float32)
    else:
        parts = kind.split("_")
        emb = _embedder(parts[0], parts[1])
        augment = parts[2] if len(parts) > 2 else ""
        run = emb.mel_only if parts[0] == "mel" else emb.embed
        out_rows = []
        for i in range(0, len(df), 8):
            part = df.iloc[i:i + 8]
            segs = [_segment(f, a, b, augment, i + j, level_db)
                    for j, (f, (a, b)) in enumerate(zip(part["file"], spans[i:i + 8]))]
            out_rows.append(run(segs))
            if i % 160 == 0:
                log.info("%s: %d/%d clips", kind, i, len(df))
        out = np.concatenate(out_rows).astype(np.float32)
    _save(path, out)
    return out


def extract_frames(df, view: str = "", cache_dir: Path = CACHE_DIR, layer: int = FRAME_LAYER,
                   level_db: float | None = LEVEL_DB) -> tuple[np.ndarray, np.ndarray]:
    """Whisper encoder states (output ``layer``) of every clip ("exact" mode, one 384-dim row per 20 ms
    frame) for one view (``""`` or a VIEW_SUFFIXES entry): ``(states float16 (frames, 384), offsets
    (clips + 1,))``, clip i's frames being ``states[offsets[i]:offsets[i + 1]]``. Cached like
    :func:`extract`."""
    if view not in VIEW_SUFFIXES + CHANNEL_SUFFIXES:
        raise ConfigError(f"unknown view {view!r}")
    key = hashlib.sha1(("\n".join(df["path"]) + FEATURE_VERSION).encode()).hexdigest()[:12]
    path = cache_dir / f"frames_exact{view}_L{layer}_{_level_tag(level_db)}{ENCODER_TAG}_{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return z["states"], z["offsets"]
    spans = _spans(df, cache_dir, key)
    emb = WhisperVoiceEmbedder(mode="exact", frame_layer=layer)
    states = []
    for i, (f, (a, b)) in enumerate(zip(df["file"], spans)):
        seg = _segment(f, a, b, view.lstrip("_"), i, level_db)
        states.append(emb.states([seg])[0].astype(np.float16))
        if i % 200 == 0:
            log.info("frames%s: %d/%d clips", view, i, len(df))
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in states])]).astype(np.int64)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, states=np.concatenate(states), offsets=offsets)
    return np.concatenate(states), offsets


def _embedder(block: str, mode: str) -> WhisperVoiceEmbedder:
    """The embedder of a feature block: ``whisper`` (tiny.en's final states), ``layers`` (tiny.en's
    ``POOLED_LAYERS``), ``mel`` (the log-mel functionals alone) or ``base`` (multilingual Whisper base's
    ``BASE_LAYERS``, from :func:`emoreason.perception.speech.whisper_models.multilingual_whisper_dir`)."""
    if block == "base":
        from emoreason.perception.speech.whisper_models import multilingual_whisper_dir

        return WhisperVoiceEmbedder(multilingual_whisper_dir(), mode=mode, layers=BASE_LAYERS)
    return WhisperVoiceEmbedder(mode=mode, layers=POOLED_LAYERS if block == "layers" else (-1,))


def _spans(df, cache_dir: Path, key: str) -> np.ndarray:
    path = cache_dir / f"spans_{key}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    spans = np.asarray([speech_span(read_clip(f)) for f in df["file"]], dtype=np.float64)
    _save(path, spans)
    return spans


def _augment(x: np.ndarray, how: str, index: int) -> np.ndarray:
    """``speed0.9`` / ``speed1.1``: tape-speed change; ``noise``: white noise at a seeded random SNR;
    ``band`` / ``room``: a seeded random band-pass / synthetic room (training augmentations); a
    CHANNELS entry: that recording channel (:mod:`emoreason.training.voice.channels`); ``""``: unchanged."""
    if how == "telephone":
        return channels.telephone(x)
    if how == "reverb":
        return channels.reverb(x, REVERB_RT60, seed=index)
    if how == "pink":
        return channels.coloured_noise(x, PINK_SNR_DB, seed=index)
    if how == "quiet":
        return apply_gain_db(x, QUIET_DB)
    if how == "band":
        return channels.random_band(x, seed=index)
    if how == "room":
        return channels.random_room(x, seed=index)

    if how.startswith("speed"):
        return change_speed(x, float(how[len("speed"):]))
    if how == "noise":
        rng = np.random.RandomState(index)
        snr = rng.uniform(*NOISE_SNR_DB)
        power = float(np.mean(x.astype(np.float64) ** 2))
        return (x + rng.randn(len(x)) * np.sqrt(power / 10 ** (snr / 10))).astype(np.float32)
    return x


def _cut(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return x[int(a * 16000): int(b * 16000)]


def _segment(file: str, a: float, b: float, augment: str, index: int, level_db: float | None) -> np.ndarray:
    """Clip ``file`` cut to ``a``..``b`` s, augmented (or sent through a channel), then level-normalised as
    the voice stage does (``level_db``; None: left as recorded)."""
    seg = _augment(_cut(read_clip(file), a, b), augment, index)
    return seg if level_db is None else normalise_level(seg, level_db)


def _level_tag(level_db: float | None) -> str:
    return "" if level_db is None else f"lvl{-level_db:g}_"


def _save(path: Path, arr: np.ndarray) -> None:
    with atomic_write(path, "wb") as f:
        np.save(f, arr, allow_pickle=False)


if __name__ == "__main__":  # python -m emoreason.training.voice.features DATA [kind ...]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    table = load_ravdess(sys.argv[1])
    for k in sys.argv[2:] or KINDS:
        log.info("%s -> %s", k, extract(table, k).shape)
