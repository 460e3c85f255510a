"""Synthetic conversations with known turns: single-speaker clips laid end to end, with pauses, some
overlaps and optional noise — test material for diarisation, tracking and per-person analysis.

:func:`make_conversation` takes clips in speaking order, each ``(path or 16 kHz waveform, speaker id)``:
each clip is trimmed of its leading and trailing silence (quieter than ``trim_db`` under its peak),
brought to -23 dBFS RMS plus a random gain of up to ``gain_jitter_db``, and placed after the previous
turn with a pause drawn from ``pause`` seconds — or, with probability ``overlap_prob`` when the speaker
changes, starting ``overlap`` seconds *before* the previous turn ends (at most half the shorter of the
two). White Gaussian noise at ``snr_db`` (relative to the mean power of the speech) is optional. The
reference turns are the trimmed clips' spans, so they overlap where the speech does.

:func:`plan_turns` picks clips for a conversation from clips grouped by speaker (random order, every
speaker at least twice); :func:`ravdess_by_actor` groups the shared RAVDESS clips by actor.
"""

from __future__ import annotations

import csv
from collections.abc import Hashable, Sequence
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.io.audio import SAMPLE_RATE, resample

Clip = tuple["str | Path | np.ndarray", Hashable]
RefTurn = tuple[float, float, Hashable]  # (start s, end s, speaker id)
TARGET_DBFS = -23.0


def load_clip(source: str | Path | np.ndarray) -> np.ndarray:
    """A clip as 16 kHz mono float32: a file read with soundfile (resampled), or a waveform at 16 kHz."""
    if isinstance(source, np.ndarray):
        return np.asarray(source, dtype=np.float32).reshape(-1)
    path = Path(source)
    if not path.is_file():
        raise InputNotFoundError(f"no such audio clip: {path}")
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    return resample(x, sr, SAMPLE_RATE) if sr != SAMPLE_RATE else x


def trim_silence(x: np.ndarray, top_db: float = 30.0) -> np.ndarray:
    """``x`` without its leading and trailing stretches quieter than ``top_db`` under its peak."""
    if not np.any(x):
        raise ConfigError("a conversation clip is silent")
    _, (a, b) = librosa.effects.trim(x, top_db=top_db, frame_length=512, hop_length=128)
    return x[a:b]


def _level(x: np.ndarray, dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x * (10 ** (dbfs / 20) / max(rms, 1e-9))).astype(np.float32)


def make_conversation(
    clips: Sequence[Clip],
    *,
    pause: tuple[float, float] = (0.3, 1.2),
    overlap_prob: float = 0.0,
    overlap: tuple[float, float] = (0.2, 0.8),
    snr_db: float | None = None,
    gain_jitter_db: float = 3.0,
    lead: float = 0.5,
    trim_db: float = 30.0,
    seed: int = 0,
) -> tuple[np.ndarray, int, list[RefTurn]]:
    """``(audio, 16000, reference_turns)``: the clips spoken in the given order (see the module
    docstring). ``lead`` seconds of silence open and close the recording."""
    if not clips:
        raise ConfigError("a conversation needs at least one clip")
    if not 0.0 <= overlap_prob <= 1.0:
        raise ConfigError(f"overlap_prob must be within 0..1, got {overlap_prob}")
    rng = np.random.default_rng(seed)
    pieces: list[tuple[int, np.ndarray]] = []
    turns: list[RefTurn] = []
    cursor = int(lead * SAMPLE_RATE)  # where the previous turn ended (samples)
    prev_len, prev_speaker = 0, None
    for source, speaker in clips:
        x = trim_silence(load_clip(source), trim_db)
        x = _level(x, TARGET_DBFS + rng.uniform(-gain_jitter_db, gain_jitter_db))
        if prev_speaker is not None and speaker != prev_speaker and rng.random() < overlap_prob:
            amount = rng.uniform(*overlap) * SAMPLE_RATE
            start = cursor - int(min(amount, 0.5 * min(prev_len, len(x))))
        else:
            start = cursor + (int(rng.uniform(*pause) * SAMPLE_RATE) if prev_speaker is not None else 0)
        pieces.append((start, x))
        turns.append((round(start / SAMPLE_RATE, 3), round((start + len(x)) / SAMPLE_RATE, 3), speaker))
        cursor = max(cursor, start + len(x))
        prev_len, prev_speaker = len(x), speaker
    audio = np.zeros(cursor + int(lead * SAMPLE_RATE), np.float32)
    for start, x in pieces:
        audio[start:start + len(x)] += x
    if snr_db is not None:
        speech = np.concatenate([x for _, x in pieces])
        power = float(np.mean(np.square(speech, dtype=np.float64)))
        sigma = np.sqrt(power / 10 ** (snr_db / 10))
        audio = audio + (sigma * rng.standard_normal(len(audio))).astype(np.float32)
    peak = float(np.abs(audio).max())
    if peak > 0.99:
        audio *= 0.99 / peak
    return audio.astype(np.float32), SAMPLE_RATE, turns


def overlap_seconds(turns: Sequence[RefTurn]) -> float:
    """Seconds during which two or more reference turns are active."""
    edges = sorted([(a, 1) for a, _, _ in turns] + [(b, -1) for _, b, _ in turns])
    total, active, last = 0.0, 0, 0.0
    for t, d in edges:
        if active >= 2:
            total += t - last
        active += d
        last = t
    return total


def plan_turns(clips_by_speaker: dict[Hashable, Sequence], n_turns: int, seed: int = 0,
               same_speaker_prob: float = 0.1) -> list[Clip]:
    """``n_turns`` clips ``(source, speaker)`` in a random speaking order: every speaker speaks at least
    twice when ``n_turns`` allows (once otherwise) and at most half the turns (rounded up; a lone speaker
    speaks them all); the speaker changes at each turn except, with ``same_speaker_prob``, where a repeat
    keeps the plan possible; no clip is used twice while its speaker has unused ones."""
    speakers = list(clips_by_speaker)
    if not speakers or n_turns < len(speakers):
        raise ConfigError(f"{n_turns} turns cannot give each of {len(speakers)} speakers a turn")
    rng = np.random.default_rng(seed)
    counts = {s: (2 if n_turns >= 2 * len(speakers) else 1) for s in speakers}
    cap = n_turns if len(speakers) == 1 else max(max(counts.values()), (n_turns + 1) // 2)
    for _ in range(n_turns - sum(counts.values())):
        open_ = [s for s in speakers if counts[s] < cap]
        counts[open_[int(rng.integers(len(open_)))]] += 1
    order: list[Hashable] = []
    for k in range(n_turns):
        left = n_turns - k
        last = order[-1] if order else None
        repeat_ok = last is not None and counts.get(last, 0) > 0 and rng.random() < same_speaker_prob
        pool = [s for s in speakers if counts[s] > 0 and (s != last or repeat_ok)] or \
            [s for s in speakers if counts[s] > 0]
        urgent = [s for s in pool if 2 * counts[s] >= left + 1]  # must speak now to avoid repeats later
        if urgent:
            pool = urgent
        weights = np.array([counts[s] for s in pool], dtype=float)
        pick = pool[int(rng.choice(len(pool), p=weights / weights.sum()))]
        order.append(pick)
        counts[pick] -= 1
    unused = {s: list(rng.permutation(len(clips_by_speaker[s]))) for s in speakers}
    out: list[Clip] = []
    for s in order:
        if not unused[s]:
            unused[s] = list(rng.permutation(len(clips_by_speaker[s])))
        out.append((clips_by_speaker[s][unused[s].pop()], s))
    return out


def ravdess_by_actor(root: str | Path, actors: Sequence[int] | None = None) -> dict[int, list[Path]]:
    """The RAVDESS speech clips under ``root`` (its ``labels.csv``) grouped by actor number."""
    root = Path(root)
    labels = root / "labels.csv"
    if not labels.is_file():
        raise InputNotFoundError(f"no RAVDESS labels.csv under {root}")
    out: dict[int, list[Path]] = {}
    with open(labels, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            actor = int(row["actor"])
            if actors is None or actor in actors:
                out.setdefault(actor, []).append(root / row["path"])
    return {a: sorted(p) for a, p in sorted(out.items())}
