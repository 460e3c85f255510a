"""Synthetic audio for the voice tests: harmonic "voiced" tones, silence, noise, espeak-ng speech.

Load from a test file with importlib (see test_voice_prosody.py): pytest's importlib mode gives test
folders no package, and tests/perception/conftest.py is not ours to own.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

SR = 16000


def harmonic_tone(f0_start: float, f0_end: float | None = None, seconds: float = 2.0,
                  syllables_per_s: float = 4.0, amplitude: float = 0.3, harmonics: int = 8) -> np.ndarray:
    """A voice-like tone: F0 gliding linearly (in Hz) from ``f0_start`` to ``f0_end``, harmonics
    falling as 1/k, amplitude modulated like syllables."""
    f0_end = f0_start if f0_end is None else f0_end
    t = np.arange(int(seconds * SR)) / SR
    f0 = f0_start + (f0_end - f0_start) * t / max(seconds, 1e-9)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))
    env = 0.3 + 0.7 * 0.5 * (1 - np.cos(2 * np.pi * syllables_per_s * t))
    x = x / np.max(np.abs(x))
    return (amplitude * x * env).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), dtype=np.float32)


def noise(seconds: float, level: float = 0.05, seed: int = 0) -> np.ndarray:
    return (level * np.random.RandomState(seed).randn(int(seconds * SR))).astype(np.float32)


def espeak(text: str, pitch: int = 50, speed: int = 160, amplitude: int = 100) -> np.ndarray:
    """espeak-ng speech as 16 kHz float32; skips the calling test when espeak-ng is absent."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    import soundfile as sf

    from emoreason.io.audio import ArrayAudio

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "-p", str(pitch), "-s", str(speed), "-a", str(amplitude),
                        text], check=True, capture_output=True)
        x, sr = sf.read(str(wav), dtype="float32")
    return ArrayAudio(x, sr).samples


SENTENCES = (
    "I can't believe you did this to me.",
    "What a wonderful surprise, thank you so much.",
    "Please put the boxes by the door.",
    "Why would anyone leave the lights on all night?",
)


def spoken_recording(gap_s: float = 1.0) -> np.ndarray:
    """Four espeak sentences in different pitch and speed, separated by ``gap_s`` of silence."""
    parts = [silence(0.5)]
    for i, text in enumerate(SENTENCES):
        parts += [espeak(text, pitch=30 + 15 * i, speed=140 + 20 * i), silence(gap_s)]
    return np.concatenate(parts)
