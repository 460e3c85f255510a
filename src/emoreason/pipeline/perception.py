"""What the perception stages produced for one input, before fusion: :class:`Perception`, and the
shortest media worth analysing (:func:`check_duration`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emoreason.errors import TooShortError
from emoreason.io.audio import ArrayAudio
from emoreason.perception.base import ModalityOutput

MIN_DURATION = 0.5  # seconds of media needed to say anything

Speech = list[tuple[float, float]]  # speech segments (start, end) in seconds, from voice activity detection


@dataclass
class Perception:
    """Everything the perception stages produced for one input, before fusion."""

    input: str
    kind: str  # video, audio, image, waveform, text
    duration: float | None
    outputs: dict[str, ModalityOutput] = field(default_factory=dict)
    transcript: str = ""
    language: str | None = None  # the transcript's language (Whisper code) and its identification's p
    language_probability: float | None = None
    spoken: list[tuple[str, float, float]] = field(default_factory=list)  # (words, start, end), timed
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # with perceive(..., keep_audio=True): the decoded sound (16 kHz mono) and the speech VAD found in it
    audio: ArrayAudio | None = field(default=None, repr=False)
    speech: Speech | None = None
    # with people=True (emoreason.pipeline.people_stages): the faces' and the voices' per-person outputs,
    # and the words with their times (the transcript the text stage read), to split them by speaker
    people_faces: Any = field(default=None, repr=False)
    people_voices: Any = field(default=None, repr=False)
    words: Any = field(default=None, repr=False)


def check_duration(name: str, duration: float | None) -> None:
    """A TooShortError when media of ``duration`` seconds is too short to analyse (None: a still)."""
    if duration is not None and duration < MIN_DURATION:
        raise TooShortError(f"{name}: {duration:.2f} s of media is too short "
                            f"(at least {MIN_DURATION} s needed)")
