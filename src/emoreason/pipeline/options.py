"""What one analysis is asked to do: :class:`AnalyzeOptions`, every option of ``emoreason.analyze`` once,
checked and normalised when it is made, so the stages behind it read plain values."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.errors import ConfigError
from emoreason.labels import get_label_map
from emoreason.languages import check_language
from emoreason.perception.face.analyzer import check_face_model
from emoreason.perception.voice.analyzer import check_speaker_normalisation

MODALITIES = ("face", "voice", "text")
#: Other names a user may type for a modality.
MODALITY_ALIASES = {"audio": "voice", "words": "text", "video": "face"}
MAX_FPS = 60.0
#: The most speakers ``speakers=`` may name (diarising more voices than this in one clip is not credible).
MAX_SPEAKERS = 20
#: Sample rates a waveform may be given at (Hz): telephone speech to studio audio.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 384_000


def parse_modalities(modalities: Iterable[str] | str | None) -> tuple[str, ...]:
    """The modalities named by ``modalities`` ("face,voice", a list, "all" or None for all), in the order
    given, aliases resolved; an unknown name or an empty choice is a ConfigError."""
    if modalities is None:
        return MODALITIES
    if isinstance(modalities, str):
        modalities = [m for m in modalities.split(",") if m.strip()]
    elif not isinstance(modalities, Iterable):
        raise ConfigError(f"modalities must be a string such as 'face,voice' or a list of names, "
                          f"got {_type(modalities)}")
    chosen = []
    for m in modalities:
        if not isinstance(m, str):
            raise ConfigError(f"modalities must name modalities as strings, got {_type(m)} ({m!r:.40})")
        m = m.strip().lower()
        m = MODALITY_ALIASES.get(m, m)
        if m == "all":
            return MODALITIES
        if m not in MODALITIES:
            raise ConfigError(f"unknown modality {m!r}; choose from face, voice, text (or all)")
        if m not in chosen:
            chosen.append(m)
    if not chosen:
        raise ConfigError("no modality selected")
    return tuple(chosen)


@dataclass(frozen=True)
class AnalyzeOptions:
    """The options of one analysis (see :func:`emoreason.analyze` for what each means).

    Made once and read by every stage. ``__post_init__`` checks them (a bad one is a ConfigError) and
    stores them normalised: ``labels`` is the label set's canonical name, ``modalities`` a tuple of
    canonical modality names, ``face_model`` None for the shipped default, ``context`` a tuple or None,
    ``language`` a Whisper language code or None (identify it),
    ``sample_rate`` an int and ``fps`` a float. A value of the wrong type (``text=5``, ``fps="5"``,
    ``context=5``) is a ConfigError naming the option, never a TypeError from a later stage.
    """

    text: str | None = None
    transcript: str | Path | None = None
    sample_rate: int | None = None
    modalities: Iterable[str] | str | None = None
    labels: str = "canonical"
    fps: float = 5.0
    model: str | Path | None = None
    progress: bool = False
    explain_endpoint: str | None = None
    explain_model: str = "default"
    asr_model: str | Path | None = None
    context: Sequence[str] | None = None
    speaker_normalisation: str = "auto"
    face_model: str | None = None
    people: bool = False
    speakers: int | None = None
    language: str | None = None
    reason: bool = True

    def __post_init__(self) -> None:
        self._check_types()
        self._set("labels", get_label_map(self.labels).name)
        if self.model is not None and self.face_model not in (None, "default"):
            raise ConfigError("face_model chooses the default pipeline's face model; an MLLM checkpoint "
                              "(model=...) has its own face encoders")
        self._set("modalities", parse_modalities(self.modalities))
        self._set("speaker_normalisation", check_speaker_normalisation(self.speaker_normalisation))
        self._set("face_model", check_face_model(self.face_model))
        if not (0 < self.fps <= MAX_FPS):  # NaN fails this too
            raise ConfigError(f"fps must be in (0, {MAX_FPS:g}], got {self.fps:g}")
        self._set("context", tuple(self.context) if self.context else None)
        self._set("language", check_language(self.language))
        self._check_people()
        _expect("reason", self.reason, (bool, np.bool_), "True or False")
        self._set("reason", bool(self.reason))
        if not self.reason and self.model is None:
            raise ConfigError("reason=False skips the multimodal LLM's [reason] answer: give it with model=")

    def _check_people(self) -> None:
        """``people`` and ``speakers``: a whole number of speakers from 1 to :data:`MAX_SPEAKERS`, given only
        with ``people=True``; not with an MLLM checkpoint (it has no per-person path)."""
        _expect("people", self.people, (bool, np.bool_), "True or False")
        self._set("people", bool(self.people))
        n = self.speakers
        if n is not None:
            if not _is_real(n) or not math.isfinite(n) or int(n) != n:
                raise ConfigError(f"speakers must be a whole number of speakers, got {_type(n)} ({n!r:.40})")
            if not 1 <= n <= MAX_SPEAKERS:
                raise ConfigError(f"speakers must be between 1 and {MAX_SPEAKERS} (the number of people who "
                                  f"speak in the clip), got {n:g}")
            if not self.people:
                raise ConfigError("speakers (the number of voices to find) is for people=True")
            self._set("speakers", int(n))
        if self.people and self.model is not None:
            raise ConfigError("people=True runs the default pipeline per person; an MLLM checkpoint "
                              "(model=...) has no per-person path")

    def _check_types(self) -> None:
        """Each option's type (and the numbers' range): a ConfigError naming the option."""
        for name in ("text", "explain_endpoint"):
            _expect(name, getattr(self, name), (str,), "a string", optional=True)
        for name in ("labels", "explain_model", "speaker_normalisation"):
            _expect(name, getattr(self, name), (str,), "a string")
        _expect("face_model", self.face_model, (str,), "a string", optional=True)
        for name in ("transcript", "model", "asr_model"):
            _expect(name, getattr(self, name), (str, os.PathLike), "a path", optional=True)
        _expect("progress", self.progress, (bool, np.bool_), "True or False")
        if not _is_real(self.fps):
            raise ConfigError(f"fps must be a number of frames per second, got {_type(self.fps)} "
                              f"({self.fps!r:.40})")
        self._set("fps", float(self.fps))
        sr = self.sample_rate
        if sr is not None:
            if not _is_real(sr) or not math.isfinite(sr) or int(sr) != sr:
                raise ConfigError(f"sample_rate must be a whole number of samples per second (Hz), "
                                  f"got {_type(sr)} ({sr!r:.40})")
            if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
                raise ConfigError(f"sample_rate must be between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz, "
                                  f"got {sr:g}")
            self._set("sample_rate", int(sr))
        ctx = self.context
        if ctx is not None:
            if isinstance(ctx, (str, bytes)) or not isinstance(ctx, Iterable):
                raise ConfigError("context must be a list of the utterances said before (strings, oldest "
                                  f"first), got {_type(ctx)}")
            ctx = list(ctx)
            bad = next((c for c in ctx if not isinstance(c, str)), None)
            if bad is not None:
                raise ConfigError(f"context must hold strings (utterances), got {_type(bad)} ({bad!r:.40})")
            self._set("context", ctx)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)  # normalising a frozen dataclass's own fields

    @property
    def whisper_dir(self) -> str | None:
        """``asr_model`` as the folder name the speech-to-text stage takes (None: the shipped model)."""
        return str(self.asr_model) if self.asr_model is not None else None


def _type(value: Any) -> str:
    return type(value).__name__


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _expect(name: str, value: Any, types: tuple[type, ...], what: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, types):
        raise ConfigError(f"{name} must be {what}{' or None' if optional else ''}, got {_type(value)} "
                          f"({value!r:.40})")
