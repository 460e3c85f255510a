"""Which language is spoken, and which Whisper model transcribes it.

The language is identified once per input by the multilingual Whisper (base, or the user's multilingual
``asr_model``) on the first :data:`LID_SECONDS` of speech (the VAD's speech spans joined, silence left
out); an input that changes language later keeps the first one. Every language, English included, is
then transcribed by that model, told the language so that it does not guess again per window. English
does not go to the faster Whisper tiny.en: on 24 English espeak-ng utterances tiny.en's word error rate
was 0.117 against base's 0.049, for 0.46x base's ASR time, and on 60 RAVDESS clips 0.075 against
0.053 (``benchmarks/asr_languages.py``, docs/languages.md). A user's English-only ``asr_model`` takes
English only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError
from emoreason.io.audio import AudioSource
from emoreason.languages import check_language, language_name
from emoreason.perception.speech.whisper import load_whisper
from emoreason.perception.speech.whisper_models import multilingual_whisper_dir

LID_SECONDS = 30.0  # one Whisper window: the encoder sees 30 s at a time
MULTILINGUAL_NAME = "whisper-base (multilingual)"


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
    English name), else the one identified. ``model_dir`` (a user's CTranslate2 Whisper) replaces the
    packaged Whisper base; an English-only one accepts no other language than English."""
    language = check_language(language)
    if model_dir is None:
        model, name = load_whisper(multilingual_whisper_dir()), MULTILINGUAL_NAME
    else:
        model, name = load_whisper(model_dir), Path(model_dir).name
        if not model.model.is_multilingual:
            if language not in (None, "en"):
                raise ConfigError(f"the speech model {name} is English-only: it cannot transcribe "
                                  f"{language_name(language)}")
            return Route(model, name, "en", None, english_only=True)
    if language is None:
        return Route(model, name, *identify(model, audio, speech), english_only=False)
    return Route(model, name, language, None, english_only=False)
