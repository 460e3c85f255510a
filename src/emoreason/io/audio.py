"""Decoded audio as something analysers can read a stretch of at a time.

All audio inside emoreason is mono float32 at :data:`SAMPLE_RATE` (16 kHz). Long recordings live in
a temporary WAV file (:class:`WavFileAudio`) so memory does not grow with their length; short ones
and user-given waveforms are held in memory (:class:`ArrayAudio`). scipy (for resampling) is imported
inside :func:`resample`: it is slow to import and most audio is decoded at 16 kHz already.

A waveform a user hands over is first made float in -1..1 by :func:`waveform_to_float` (integer PCM
scaled by its type's range, non-finite samples zeroed), each conversion said in a note.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from emoreason.errors import ConfigError

SAMPLE_RATE = 16000
INT16_FULL_SCALE = 32768.0


def waveform_to_float(samples: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """``samples`` as float32 in -1..1, and notes saying what was converted.

    Integer PCM is scaled by its type's range: signed ``intN`` divided by 2^(N-1) (int16 by 32768),
    unsigned ``uintN`` centred on 2^(N-1) first (8-bit WAV's uint8). Float samples are kept, except:
    non-finite ones (NaN, inf) become 0 (an all-non-finite waveform is a ConfigError); a float waveform
    beyond -1..1 whose samples are all whole numbers within int16's range is int16 PCM held in floats and
    is divided by 32768; any other float waveform beyond -1..1 is divided by its peak (-1..1 is
    what every model here was trained on; the loudness it loses is said in the note). Booleans, complex
    numbers and objects are a ConfigError.
    """
    x = np.asarray(samples)
    notes: list[str] = []
    kind = x.dtype.kind
    if kind in "iu":
        name, bits = x.dtype.name, x.dtype.itemsize * 8
        half = float(2 ** (bits - 1))
        if kind == "u":
            x = (x.astype(np.float64) - half) / half
            notes.append(f"the waveform was {name} PCM: "
                         f"centred on {half:g} and scaled by 1/{half:g} to -1..1")
        else:
            x = x.astype(np.float64) / half
            notes.append(f"the waveform was {name} PCM: scaled by 1/{half:g} to -1..1")
        return x.astype(np.float32), notes
    if kind != "f":
        raise ConfigError(f"a waveform must hold numbers (float in -1..1, or integer PCM), "
                          f"got an array of {x.dtype}")
    x = x.astype(np.float32)
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(x.size - np.count_nonzero(finite))
        if bad == x.size:
            raise ConfigError("the waveform holds no finite sample (all NaN or infinite)")
        x = np.where(finite, x, np.float32(0.0))
        notes.append(f"{bad} of the waveform's {x.size} samples were not numbers (NaN or infinite) "
                     "and were replaced with 0")
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak > 1.0:
        if peak <= INT16_FULL_SCALE and np.array_equal(x, np.round(x)):
            x = x / np.float32(INT16_FULL_SCALE)
            notes.append(f"the float waveform held whole numbers up to {peak:g} (int16 PCM in floats): "
                         "scaled by 1/32768 to -1..1")
        else:
            x = x / np.float32(peak)
            notes.append(f"the float waveform reached {peak:.3g}, beyond -1..1: divided by its peak")
    return x, notes


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
