"""espeak-ng voices as distinct synthetic speakers, and the shared RAVDESS folder, for the speaker tests.

The GE2E encoder tells espeak's variants apart unevenly (one sentence vs another, cosine): ``en+m1`` and
``en+f3`` 0.61, ``en+f3`` and ``en+klatt`` 0.49, ``en+m1`` and ``en+klatt`` 0.68, but ``en+m1`` and
``en+croak`` 0.90 (look-alikes), while one voice's two sentences score 0.89-0.91.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emoreason.io.audio import SAMPLE_RATE, resample

RAVDESS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ravdess_speech"
SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Please put the boxes by the door before you leave tonight.",
    "Why would anyone leave the lights on all night long?",
    "I can't believe you did this to me after all these years.",
)


def voice(variant: str, text: str) -> np.ndarray:
    """espeak-ng voice ``variant`` (e.g. ``en+f3``) saying ``text``, 16 kHz float32; skips without it."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "v.wav"
        subprocess.run(["espeak-ng", "-v", variant, "-w", str(wav), text], check=True, capture_output=True)
        x, sr = sf.read(str(wav), dtype="float32")
    return resample(x, sr, SAMPLE_RATE) if sr != SAMPLE_RATE else x


def needs_ravdess() -> None:
    if not (RAVDESS / "labels.csv").is_file():
        pytest.skip(f"shared RAVDESS speech not found at {RAVDESS}")
