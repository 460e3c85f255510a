"""Which language is spoken, and which Whisper model transcribes it.

The language is identified once per input by the multilingual Whisper (base, or the user's multilingual
``asr_model``) on the first :data:`LID_SECONDS` of speech (the VAD's speech spans joined, silence left
out); an input that changes language later keeps the first one. English goes to Whisper tiny.en when
:data:`ENGLISH_ON_TINY` (it transcribed English espeak-ng speech as well as base, in about a third of
the time: ``benchmarks/asr_languages.py``, docs/languages.md); every other language to the multilingual
model, told the language so that it does not guess again per window.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError
from emoreason.io.audio import AudioSource
from emoreason.languages import check_language, language_name
from emoreason.perception.speech.whisper import default_whisper_dir, load_whisper
from emoreason.perception.speech.whisper_models import multilingual_whisper_dir

LID_SECONDS = 30.0  # one Whisper window: the encoder sees 30 s at a time
ENGLISH_ON_TINY = True


@dataclass
class Route:
    """The model to transcribe with, its name, the language and the identification's probability (None:
    the language was given, or assumed English for a user's English-only model)."""

    model: object
    name: str
    language: str
    probability: float | None
    english_only: bool


def speech_sample(audio: AudioSource, speech: list[tuple[float, float]] | None,
                  seconds: float = LID_SECONDS) -> np.ndarray:
    """The first ``seconds`` of speech: the ``speech`` spans read and joined in order (the whole input's
    start when ``speech`` is None)."""
    if speech is None:
        return audio.read(0.0, min(audio.duration, seconds))
    parts, total = [], 0.0
    for a, b in sorted(speech):
        b = min(b, a + seconds - total, audio.duration)
        if b <= a:
            continue
        parts.append(audio.read(a, b))
        total += b - a
        if total >= seconds - 1e-6:
            break
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def identify(model, audio: AudioSource, speech: list[tuple[float, float]] | None) -> tuple[str, float]:
    """(Whisper language code, probability) of the first speech in ``audio``."""
    samples = speech_sample(audio, speech)
    if len(samples) < 1600:  # under 0.1 s: Whisper would only see padding
        samples = audio.read(0.0, min(audio.duration, LID_SECONDS))
    language, probability, _ = model.detect_language(np.asarray(samples, np.float32),
                                                     vad_filter=speech is None)
    return language, float(probability)


def route(audio: AudioSource, speech: list[tuple[float, float]] | None, model_dir: str | Path | None,
          language: str | None) -> Route:
    """The model and language to transcribe ``audio`` with: ``language`` when given (a Whisper code or
    English name), else the one identified. ``model_dir`` (a user's CTranslate2 Whisper) replaces both
    packaged models; an English-only one accepts no other language than English."""
    language = check_language(language)
    if model_dir is not None:
        model = load_whisper(model_dir)
        name = Path(model_dir).name
        if not model.model.is_multilingual:
            if language not in (None, "en"):
                raise ConfigError(f"the speech model {name} is English-only: it cannot transcribe "
                                  f"{language_name(language)}")
            return Route(model, name, "en", None, english_only=True)
        if language is None:
            return Route(model, name, *identify(model, audio, speech), english_only=False)
        return Route(model, name, language, None, english_only=False)
    probability = None
    if language is None:
        base = load_whisper(multilingual_whisper_dir())
        language, probability = identify(base, audio, speech)
    if language == "en" and ENGLISH_ON_TINY:
        name = f"whisper-tiny.en ({default_whisper_dir().parent.name})"
        return Route(load_whisper(), name, "en", probability, english_only=True)
    return Route(load_whisper(multilingual_whisper_dir()), "whisper-base (multilingual)", language,
                 probability, english_only=False)
