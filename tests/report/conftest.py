"""Hand-made Results and a tiny synthetic video for the report tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data, transform

from emoreason.io.synth import write_media
from emoreason.result import Result


def clip_result_dict(input_name: str = "clip.mp4") -> dict:
    """A 6-second clip with three segments and all three modalities, as the pipeline would return it."""
    def sc(**kw: float) -> dict[str, float]:
        base = dict.fromkeys(("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"), 0.0)
        base.update(kw)
        total = sum(base.values())
        return {k: v / total for k, v in base.items()}

    return {
        "input": input_name, "duration": 6.0, "label": "happy",
        "scores": sc(happy=0.62, neutral=0.18, surprised=0.12, sad=0.08),
        "valence": 0.46, "arousal": 0.31,
        "modalities": {
            "face": {"used": True, "label": "happy", "scores": sc(happy=0.7, neutral=0.3), "weight": 0.45,
                     "details": {"frames": 30, "frames_with_face": 28, "peak_frame_time": 1.2,
                                 "peak_aus": {"AU06": 0.81, "AU12": 1.12, "AU25": 0.35},
                                 "peak_face_box": [0.3, 0.2, 0.7, 0.7],
                                 "peak_description": "cheeks raised, lip corners pulled up",
                                 "au_unit": "SDs above the person's neutral baseline"}},
            "voice": {"used": True, "label": "surprised", "scores": sc(surprised=0.5, happy=0.3, neutral=0.2),
                      "weight": 0.3, "details": {"speech_seconds": 4.8}},
            "text": {"used": True, "label": "happy", "scores": sc(happy=0.8, neutral=0.2), "weight": 0.25,
                     "details": {"transcript": "I can't believe it! We actually won. That is wonderful."}},
        },
        "segments": [
            {"start": 0.0, "end": 2.0, "label": "surprised",
             "scores": sc(surprised=0.5, happy=0.4, neutral=0.1),
             "modalities": {"face": sc(happy=0.6, surprised=0.4), "voice": sc(surprised=0.7, neutral=0.3),
                            "text": sc(surprised=0.5, happy=0.5)},
             "text": "I can't believe it!"},
            {"start": 2.0, "end": 4.0, "label": "happy", "scores": sc(happy=0.7, neutral=0.3),
             "modalities": {"face": sc(happy=0.8, neutral=0.2), "voice": sc(happy=0.5, neutral=0.5),
                            "text": sc(happy=0.9, neutral=0.1)},
             "text": "We actually won."},
            {"start": 4.0, "end": 6.0, "label": "sad", "scores": sc(sad=0.5, neutral=0.3, happy=0.2),
             "modalities": {"face": sc(neutral=0.6, sad=0.4), "voice": sc(sad=0.6, neutral=0.4)},
             "text": "That is wonderful <b>really</b>."},
        ],
        "evidence": [
            {"modality": "face", "name": "AU12", "value": 1.12, "start": 0.8, "end": 3.4, "weight": 0.3,
             "description": "lip corners pull up", "unit": "baseline-relative", "supports": "happy"},
            {"modality": "face", "name": "AU06", "value": 0.81, "start": 1.0, "end": 2.6, "weight": 0.2,
             "description": "cheeks rise", "supports": "happy"},
            {"modality": "voice", "name": "pitch level", "value": 2.1, "start": 0.2, "end": 1.9,
             "weight": 0.15, "description": "voice higher than this speaker's average", "unit": "z",
             "supports": "surprised"},
            {"modality": "text", "name": "words", "value": 0.8, "start": 2.0, "end": 4.0, "weight": 0.1,
             "description": "'won', 'wonderful'", "supports": "happy"},
        ],
        "explanation": "At 1.2 s the lip corners pull up and the cheeks rise (AU6+AU12); the voice is high "
                       "and fast; the words say 'we actually won'; so: happy, with surprised close behind.",
        "transcript": "I can't believe it! We actually won. That is wonderful <b>really</b>.",
        "notes": ["valence and arousal derived from the category scores"],
        "provenance": {"version": "0.1.0", "models": {"face": "fer-tflite"}, "seed": 0},
    }


@pytest.fixture
def clip_result() -> Result:
    return Result.from_dict(clip_result_dict())


@pytest.fixture
def text_result() -> Result:
    """A text-only analysis: no duration, no segments, no face."""
    return Result.from_dict({
        "input": "<text>", "duration": None, "label": "angry",
        "scores": {"neutral": 0.1, "happy": 0.0, "sad": 0.1, "angry": 0.7, "fearful": 0.0, "disgusted": 0.1,
                   "surprised": 0.0},
        "valence": -0.5, "arousal": 0.6,
        "modalities": {"text": {"used": True, "label": "angry", "scores": {"angry": 0.7, "neutral": 0.3},
                                "weight": 1.0},
                       "face": {"used": False, "reason": "no video given"}},
        "transcript": "This is outrageous.", "explanation": "The words are hostile.",
    })


def write_video(path: Path, seconds: float = 2.0, fps: int = 10, size: tuple[int, int] = (320, 240)) -> Path:
    """A small MPEG-4 clip: the scikit-image astronaut photo, brightening over time."""
    w, h = size
    base = (transform.resize(data.astronaut(), (h, w), anti_aliasing=True) * 255).astype(np.float32)
    n = int(seconds * fps)
    frames = (np.clip(base * (0.6 + 0.4 * i / n), 0, 255).astype(np.uint8) for i in range(n))
    return write_media(path, frames, fps=fps)


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("media") / "clip.mp4")
