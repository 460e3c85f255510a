"""Small stand-ins for the face tracks and the diarisation (their contracts' fields only), and a talking
mouth on a schedule, for the people tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FakeTurn:
    start: float
    end: float
    speaker: int


@dataclass
class FakeDiarization:
    turns: list[FakeTurn]
    n_speakers: int
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 256)))
    notes: list[str] = field(default_factory=list)

    def activity(self, times: np.ndarray) -> np.ndarray:
        times = np.asarray(times, dtype=float)
        out = np.zeros((self.n_speakers, len(times)))
        for turn in self.turns:
            out[turn.speaker, (times >= turn.start) & (times < turn.end)] = 1.0
        return out


@dataclass
class FakeTrack:
    track_id: int
    times: np.ndarray
    mouth_open: np.ndarray
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    embedding: np.ndarray = field(default_factory=lambda: np.zeros(128))
    thumbnail: np.ndarray = field(default_factory=lambda: np.full((24, 20, 3), 128, np.uint8))
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0))


def talking_mouth(times: np.ndarray, talking: list[tuple[float, float]], seed: int = 0) -> np.ndarray:
    """A mouth opening that flaps (syllables at ~4 Hz) inside ``talking`` spans and rests outside them,
    with a little measurement noise."""
    rng = np.random.default_rng(seed)
    mouth = 0.02 + 0.003 * rng.standard_normal(len(times))
    for a, b in talking:
        inside = (times >= a) & (times < b)
        mouth[inside] += 0.08 * np.abs(np.sin(2 * np.pi * 2.1 * times[inside] + rng.uniform(0, 3)))
    return mouth


def frame_times(duration: float, fps: float = 5.0) -> np.ndarray:
    return np.arange(0.0, duration, 1.0 / fps)
