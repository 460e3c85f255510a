"""Synthetic inputs for the text tests: transcript files in several encodings, spoken sentences."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

SRT = """1
00:00:00,500 --> 00:00:02,000
I can't believe it!

2
00:00:02,500 --> 00:00:04,250
<i>This is</i> the best day
of my life.
"""

VTT = """WEBVTT - made by a test

NOTE a comment block
that spans two lines

intro
00:00.500 --> 00:02.000 align:start position:10%
<v Anna>I can't believe it!</v>

00:00:02.500 --> 00:00:04.250
Fish &amp; chips <00:00:03.000>again.
"""


def write(tmp: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes(text.encode(encoding))
    return path


def espeak_audio(text: str, tmp: Path):
    """``ArrayAudio`` of espeak-ng saying ``text``; skips the test when espeak-ng is absent."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    import soundfile as sf

    from emoreason.io.audio import ArrayAudio

    wav = tmp / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), text], check=True, capture_output=True)
    samples, sr = sf.read(str(wav), dtype="float32")
    return ArrayAudio(samples, sr)


def with_silence(audio, before: float, after: float):
    from emoreason.io.audio import SAMPLE_RATE, ArrayAudio

    pad = lambda s: np.zeros(int(s * SAMPLE_RATE), np.float32)  # noqa: E731
    return ArrayAudio(np.concatenate([pad(before), audio.samples, pad(after)]))
