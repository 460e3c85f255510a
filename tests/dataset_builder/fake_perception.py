"""A stand-in perceiver for the builder's tests: real containers are opened, the "models" are scripted.

The clip's file name picks a scenario, so each test knows what the builder should find:
``happy*`` AU06+AU12 peak at 1.0 s and a happy model; ``surprise*`` AU05+AU26 and a surprised model;
``mismatch*`` a happy face (MERR rule) but a sad model; ``crash*`` kills its worker process (only with
``FAKE_PERCEPTION_ALLOW_CRASH=1``); anything else no active AU and a neutral model.
``FAKE_PERCEPTION_DELAY`` (seconds) slows each clip down, for the kill-and-resume test.
Imported by name (``fake_perception:perceive``) in worker processes: the tests put this folder on
``sys.path`` / ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from emoreason.io.media import probe
from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput
from emoreason.result import Result

FAKE_PERCEIVER = "fake_perception:perceive"
CLIP_NAMES = ("happy_a", "surprise_b", "mismatch_c", "neutral_d", "happy_e")
SCENARIOS = {
    "happy": ({"AU06": 2.5, "AU12": 3.0}, "happy"),
    "surprise": ({"AU05": 2.2, "AU26": 2.8}, "surprised"),
    "mismatch": ({"AU06": 2.0, "AU12": 2.4}, "sad"),
}


def make_clip(path: Path, seconds: float = 1.0, fps: int = 10, seed: int = 0) -> Path:
    """A small real mp4: noise frames plus a tone."""
    from emoreason.io.synth import tone, write_media

    rng = np.random.default_rng(seed)
    frames = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(int(seconds * fps))]
    return write_media(path, frames, fps=fps, audio=tone(seconds, 220.0))


def scenario(path: str) -> tuple[dict[str, float], str]:
    name = Path(path).stem.lower()
    for key, value in SCENARIOS.items():
        if name.startswith(key):
            return value
    return {}, "neutral"


def perceive(path: str, subtitle: str | None, options) -> object:
    from emoreason.dataset_builder.builder import ClipPerception

    delay = float(os.environ.get("FAKE_PERCEPTION_DELAY", "0") or 0)
    if delay:
        time.sleep(delay)
    if Path(path).stem.startswith("crash"):  # a worker dying (segfault, OOM killer), only where allowed
        if os.environ.get("FAKE_PERCEPTION_ALLOW_CRASH") != "1":
            raise RuntimeError("crash scenario outside a worker process")
        os._exit(3)
    info = probe(path)  # raises the pipeline's own errors on empty or corrupt files
    peak_aus, model_label = scenario(path)
    times = np.round(np.arange(0.0, info.duration or 1.0, 1.0 / options.fps), 4)
    aus = ["AU01", "AU04", "AU05", "AU06", "AU07", "AU12", "AU15", "AU23", "AU26"]
    table = pd.DataFrame(0.2, index=pd.Index(times, name="time"), columns=aus)
    peak_row = int(np.argmin(np.abs(times - 0.6)))
    for au, v in peak_aus.items():
        table.iloc[:, aus.index(au)] = 1.6  # active in every frame, so it is among the frequent AUs
        table.iloc[peak_row, aus.index(au)] = v
    scores = {lab: (0.7 if lab == model_label else 0.05) for lab in CANONICAL}
    face = ModalityOutput("face", True, scores=scores,
                          details={"frames": len(times), "frames_with_face": len(times),
                                   "peak_frame_time": float(times[peak_row])},
                          series={"aus": table})
    prosody = pd.DataFrame([{"start": 0.1, "end": 0.9, "f0_slope_st_s": 3.0, "f0_range_st": 4.0,
                             "energy_mean_db": -12.0, "rate_syl_s": 6.0, "pauses": 0}])
    voice = ModalityOutput("voice", True, scores=scores, series={"prosody": prosody})
    transcript = "" if subtitle is not None else f"words of {Path(path).stem}"
    text = ModalityOutput("text", True, scores=scores, details={"transcript": transcript})
    explanation = f"At 0.6 s the face moved. Overall: {model_label} (face 60%, voice 40%)."
    result = Result(input=path, duration=info.duration, label=model_label, scores=scores, valence=0.0,
                    arousal=0.0, explanation=explanation,
                    transcript=transcript, provenance={"models": {"fake": "1"}})
    return ClipPerception(result=result, outputs={"face": face, "voice": voice, "text": text},
                          duration=info.duration, video_fps=info.fps, transcript=transcript)
