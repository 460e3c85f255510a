"""A sample clip made on the spot, so the demo needs no user file and nothing from the network.

The picture is scikit-image's astronaut photograph (Eileen Collins, NASA, public domain), which ships
inside the scikit-image wheel; the voice is espeak-ng (Debian package) reading a sentence. The face does
not move (a still photo, slowly zoomed), so the face stage sees one expression throughout.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from skimage import data

from emoreason.errors import ConfigError
from emoreason.io.audio import resample
from emoreason.io.synth import write_media

DEMO_SENTENCE = "Oh wow, I can't believe it! We won the prize. This is the best news I have heard all year."


def speak(text: str, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    """16 kHz mono float32 speech from espeak-ng."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ConfigError("the demo needs espeak-ng for its voice: "
                          "install it with `apt-get install espeak-ng`")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True,
                       capture_output=True, timeout=60)
        samples, sr = sf.read(str(wav), dtype="float32", always_2d=False)
    return resample(samples, sr, 16000) if sr != 16000 else samples


def make_demo_clip(path: str | Path, text: str = DEMO_SENTENCE, fps: int = 25) -> Path:
    """Write the demo video (astronaut photo + espeak-ng speech) to ``path`` and return it."""
    speech = speak(text)
    pad = np.zeros(int(0.5 * 16000), dtype=np.float32)
    audio = np.concatenate([pad, speech, pad])
    seconds = len(audio) / 16000
    photo = data.astronaut()  # 512x512 RGB
    n = int(seconds * fps)

    def frames():
        for i in range(n):
            zoom = 1.0 + 0.08 * i / max(n - 1, 1)  # a slow push-in so frames are not identical
            size = int(512 / zoom) // 2 * 2
            off = (512 - size) // 2
            crop = photo[off:off + size, off:off + size]
            idx = np.linspace(0, size - 1, 480).astype(int)
            yield crop[idx][:, idx]

    return write_media(path, frames(), fps=fps, audio=audio)
