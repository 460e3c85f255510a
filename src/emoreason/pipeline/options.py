"""What one analysis is asked to do: :class:`AnalyzeOptions`, every option of ``emoreason.analyze`` once,
checked and normalised when it is made, so the stages behind it read plain values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emoreason.errors import ConfigError
from emoreason.labels import get_label_map
from emoreason.perception.face.analyzer import check_face_model
from emoreason.perception.voice.analyzer import check_speaker_normalisation

MODALITIES = ("face", "voice", "text")
#: Other names a user may type for a modality.
MODALITY_ALIASES = {"audio": "voice", "words": "text", "video": "face"}
MAX_FPS = 60.0


def parse_modalities(modalities: Iterable[str] | str | None) -> tuple[str, ...]:
    """The modalities named by ``modalities`` ("face,voice", a list, "all" or None for all), in the order
    given, aliases resolved; an unknown name or an empty choice is a ConfigError."""
    if modalities is None:
        return MODALITIES
    if isinstance(modalities, str):
        modalities = [m for m in modalities.split(",") if m.strip()]
    chosen = []
    for m in modalities:
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
    canonical modality names, ``face_model`` None for the shipped default, ``context`` a tuple or None.
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

    def __post_init__(self) -> None:
        self._set("labels", get_label_map(self.labels).name)
        if self.model is not None and self.face_model not in (None, "default"):
            raise ConfigError("face_model chooses the default pipeline's face model; an MLLM checkpoint "
                              "(model=...) has its own face encoders")
        self._set("modalities", parse_modalities(self.modalities))
        self._set("speaker_normalisation", check_speaker_normalisation(self.speaker_normalisation))
        self._set("face_model", check_face_model(self.face_model))
        if self.fps <= 0 or self.fps > MAX_FPS:
            raise ConfigError(f"fps must be in (0, {MAX_FPS:g}], got {self.fps}")
        self._set("context", tuple(self.context) if self.context else None)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)  # normalising a frozen dataclass's own fields

    @property
    def whisper_dir(self) -> str | None:
        """``asr_model`` as the folder name the speech-to-text stage takes (None: the shipped model)."""
        return str(self.asr_model) if self.asr_model is not None else None
