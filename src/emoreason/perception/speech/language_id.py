"""Which language is spoken, and which Whisper model transcribes it.

The language is identified once per input by the multilingual Whisper (base, or the user's multilingual
``asr_model``) on the first window that :func:`emoreason.perception.speech.asr.transcribe` decodes (the
VAD's first speech spans, padded and merged while they fit, at most 28 s; without VAD spans, the input's
first window, VAD-filtered by faster-whisper); an input that changes language later keeps the first one.
With VAD spans, :func:`identify` encodes that window's first 30 s exactly as faster-whisper's decoding
will, reads Whisper's language token from that encoder output, and hands back the model with the output
kept (:func:`reusing_encoding`), so the window is encoded once for both. Every language, English
included, is then transcribed by that model, told the language so that it does not guess again per
window. English does not go to the faster Whisper tiny.en: on 24 English espeak-ng utterances tiny.en's
word error rate was 0.117 against base's 0.049, for 0.46x base's ASR time, and on 60 RAVDESS clips 0.075
against 0.053 (``benchmarks/asr_languages.py``, docs/languages.md). A user's English-only ``asr_model``
takes English only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError
from emoreason.languages import check_language, language_name
from emoreason.perception.speech.whisper import load_whisper
from emoreason.perception.speech.whisper_models import multilingual_whisper_dir

MULTILINGUAL_NAME = "whisper-base (multilingual)"


@dataclass
class Route:
    """The model to transcribe with, its name, the language (None: to be identified on the first window)
    and whether the model is English-only (a user's model; the language is then "en")."""

    model: object
    name: str
    language: str | None
    english_only: bool


def route(model_dir: str | Path | None, language: str | None) -> Route:
    """The model and language to transcribe with: ``language`` when given (a Whisper code or English
    name), else None (identify it). ``model_dir`` (a user's CTranslate2 Whisper) replaces the packaged
    Whisper base; an English-only one accepts no other language than English."""
    language = check_language(language)
    if model_dir is None:
        return Route(load_whisper(multilingual_whisper_dir()), MULTILINGUAL_NAME, language, False)
    model, name = load_whisper(model_dir), Path(model_dir).name
    if not model.model.is_multilingual:
        if language not in (None, "en"):
            raise ConfigError(f"the speech model {name} is English-only: it cannot transcribe "
                              f"{language_name(language)}")
        return Route(model, name, "en", english_only=True)
    return Route(model, name, language, english_only=False)


def identify(model, samples: np.ndarray, vad: bool) -> tuple[str, float, object]:
    """(Whisper language code, probability, model to decode ``samples`` with) for one window.

    ``vad`` False: the window's first 30 s are encoded as faster-whisper's ``transcribe`` encodes them
    (log-Mel features of the window, all frames but the last, zero-padded to 30 s), the language is the
    top language token on that encoder output, and the model returned reuses the output
    (:func:`reusing_encoding`). ``vad`` True (no VAD spans known): faster-whisper's ``detect_language``
    on the window with its VAD filter, and ``model`` itself."""
    samples = np.asarray(samples, np.float32)
    if vad:
        language, probability, _ = model.detect_language(samples, vad_filter=True)
        return language, float(probability), model
    extractor = model.feature_extractor
    features = extractor(samples)
    first = _pad_frames(features[:, :min(extractor.nb_max_frames, features.shape[-1] - 1)],
                        extractor.nb_max_frames)
    encoded = model.encode(first)
    token, probability = model.model.detect_language(encoded)[0][0]
    return token[2:-2], float(probability), reusing_encoding(model, first, encoded)


def reusing_encoding(model, features: np.ndarray, encoded):
    """A shallow copy of the faster-whisper ``model`` whose ``encode`` returns ``encoded`` for input equal
    to ``features`` and encodes anything else as ``model`` does (the encoder is deterministic, so the
    result is the same; the copy shares the loaded weights and is used for one window)."""
    twin = copy.copy(model)

    def encode(x):
        if np.shape(x) == features.shape and np.array_equal(x, features):
            return encoded
        return model.encode(x)

    twin.encode = encode
    return twin


def _pad_frames(features: np.ndarray, frames: int) -> np.ndarray:
    """``features`` (mel bins x frames) cut or zero-padded to ``frames`` frames (faster-whisper's
    ``pad_or_trim``)."""
    features = features[:, :frames]
    return np.pad(features, ((0, 0), (0, frames - features.shape[-1])))
