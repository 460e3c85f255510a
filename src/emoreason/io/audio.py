"""Decoded audio as something analysers can read a stretch of at a time.

All audio inside emoreason is mono float32 at :data:`SAMPLE_RATE` (16 kHz). Long recordings live in
a temporary WAV file (:class:`WavFileAudio`) so memory does not grow with their length; short ones
and user-given waveforms are held in memory (:class:`ArrayAudio`). scipy (for resampling) is imported
inside :func:`resample`: it is slow to import and most audio is decoded at 16 kHz already.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16000


class AudioSource(Protocol):
    sample_rate: int
    duration: float

    def read(self, start: float = 0.0, end: float | None = None) -> np.ndarray:
        """Samples between ``start`` and ``end`` seconds (clipped to the recording), float32 mono."""
        ...


class ArrayAudio:
    """Audio held in memory."""

    def __init__(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE):
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim == 2:  # (channels, n) or (n, channels): average to mono
            samples = samples.mean(axis=0 if samples.shape[0] < samples.shape[1] else 1)
        if sample_rate != SAMPLE_RATE:
            samples = resample(samples, sample_rate, SAMPLE_RATE)
        self.samples = np.ascontiguousarray(samples, dtype=np.float32)
        self.sample_rate = SAMPLE_RATE
        self.duration = len(self.samples) / SAMPLE_RATE

    def read(self, start: float = 0.0, end: float | None = None) -> np.ndarray:
        a, b = _span(start, end, len(self.samples), self.sample_rate)
        return self.samples[a:b]


class WavFileAudio:
    """Audio in a 16 kHz mono WAV file on disk, read a stretch at a time."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        info = sf.info(str(self.path))
        if info.samplerate != SAMPLE_RATE or info.channels != 1:
            raise ValueError(f"{path}: expected 16 kHz mono, got {info.samplerate} Hz x {info.channels}")
        self.sample_rate = SAMPLE_RATE
        self.frames = int(info.frames)
        self.duration = self.frames / SAMPLE_RATE

    def read(self, start: float = 0.0, end: float | None = None) -> np.ndarray:
        a, b = _span(start, end, self.frames, self.sample_rate)
        if b <= a:
            return np.zeros(0, dtype=np.float32)
        data, _ = sf.read(str(self.path), start=a, stop=b, dtype="float32", always_2d=False)
        return np.asarray(data, dtype=np.float32)


def _span(start: float, end: float | None, n: int, sr: int) -> tuple[int, int]:
    a = max(0, min(n, int(round(start * sr))))
    b = n if end is None else max(a, min(n, int(round(end * sr))))
    return a, b


def resample(samples: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling (scipy), float32."""
    from scipy.signal import resample_poly

    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(samples, sr_out // g, sr_in // g).astype(np.float32)
