"""Whisper encoder states pooled over a speech segment: a fixed-length voice embedding.

The encoder is the one the voice model's ``features.whisper.encoder`` names (:data:`ENCODERS`,
:func:`encoder_dir`): ``"tiny.en"`` Whisper tiny.en's (the weights of
:func:`emoreason.perception.speech.whisper.load_whisper`'s CTranslate2 model) or ``"base"`` the multilingual
Whisper base's (the shipped model's;
:func:`emoreason.perception.speech.whisper_models.multilingual_whisper_dir`: 6 blocks of 512), run in numpy
by :mod:`emoreason.perception.speech.whisper_encoder` so that every layer's output is available,
offline. Two ways to feed it:

- ``"exact"`` (default): the log-mel frames of the segment only (about 0.05 s for a 4 s segment on one
  laptop core, instead of several times that for a 30 s padded window).
- ``"padded"``: the segment zero-padded to Whisper's 30 s window, as Whisper was trained; only the
  frames that cover the real audio are pooled.

Pooling: mean and standard deviation over the encoder frames that cover real audio (each encoder frame
is 20 ms), for each of ``layers`` (indices into :meth:`WhisperEncoder.layers`'s outputs: ``0`` .. ``3`` the
four blocks of tiny.en, ``0`` .. ``5`` base's six, ``-1`` the final layer-normed states), so the embedding
has ``2 * width * len(layers)`` values (width 384 for tiny.en, 512 for base). With ``with_mel=True``
each row also holds functionals of the segment's
own 80-band log-mel frames (the encoder's input): per band the mean, standard deviation,
p90 - p10 range and mean absolute frame-to-frame change (``MEL_DIM`` = 320 values). The frame-level states
(:meth:`WhisperVoiceEmbedder.states`) come from ``frame_layer``. A classifier must be used with the mode,
layers and blocks it was trained with: all are recorded in the shipped model's config.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError
from emoreason.io.audio import resample
from emoreason.perception.speech.whisper import default_whisper_dir, load_whisper
from emoreason.perception.speech.whisper_encoder import WhisperEncoder
from emoreason.perception.speech.whisper_models import multilingual_whisper_dir

SAMPLE_RATE = 16000
HOP = 160  # samples per log-mel frame (10 ms)
WINDOW_SAMPLES = 30 * SAMPLE_RATE
MIN_SAMPLES = 4 * HOP  # shortest segment we embed (40 ms)
MODES = ("exact", "padded")
MEL_BANDS = 80
MEL_DIM = 4 * MEL_BANDS  # mean, std, p90 - p10, mean |delta| per band
ENCODERS = ("tiny.en", "base")  # a voice model's features.whisper.encoder


def encoder_dir(name: str) -> Path:
    """The CTranslate2 folder of a voice model's encoder: ``"tiny.en"`` the packaged English tiny model,
    ``"base"`` the multilingual Whisper base (joined from its two packages on first use)."""
    if name == "tiny.en":
        return default_whisper_dir()
    if name == "base":
        return multilingual_whisper_dir()
    raise ModelError(f"unknown Whisper encoder {name!r}; a voice model may name one of {', '.join(ENCODERS)}")


class WhisperVoiceEmbedder:
    """Pooled Whisper encoder states for speech segments (mono float32, 16 kHz)."""

    def __init__(self, model_dir: str | Path | None = None, mode: str = "exact", with_mel: bool = False,
                 layers: Sequence[int] = (-1,), frame_layer: int = -1):
        if mode not in MODES:
            raise ModelError(f"unknown Whisper embedding mode {mode!r}; choose one of {', '.join(MODES)}")
        self.whisper = load_whisper(model_dir)
        encoder_dir = default_whisper_dir() if model_dir is None else model_dir
        self.encoder = WhisperEncoder.from_model_dir(encoder_dir)
        n = self.encoder.n_outputs
        self.layers = tuple(int(i) for i in layers)
        if not self.layers or any(not -n <= i < n for i in (*self.layers, frame_layer)):
            raise ModelError(f"Whisper layers {list(layers)} / frame layer {frame_layer} do not exist: the "
                             f"encoder has outputs 0..{n - 1} (or -1 for the final states)")
        self.frame_layer = int(frame_layer)
        self.mode = mode
        self.with_mel = bool(with_mel)

    @property
    def dim(self) -> int:
        """Length of one embedding (2 x the encoder's width per pooled layer, plus MEL_DIM ``with_mel``)."""
        return 2 * self.encoder.width * len(self.layers) + (MEL_DIM if self.with_mel else 0)

    def embed(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """One row per segment (mean, std of the states of each of ``layers``; then the log-mel
        functionals ``with_mel``): shape ``(len(segments), dim)``."""
        return self.embed_with_states(segments)[0]

    def states(self, segments: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The ``frame_layer`` states of each segment (its own frames, one row per 20 ms), for a classifier
        on frames (:class:`emoreason.perception.voice.classifier.VoiceClassifier`); "exact" mode only."""
        if self.mode != "exact":
            raise ModelError("frame states are only available in the 'exact' mode")
        return self.embed_with_states(segments)[1]

    def embed_with_states(self, segments: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """:meth:`embed` and the ``frame_layer`` states of each segment, from one encoder pass per segment.
        In the "padded" mode there are no per-segment states (an empty list)."""
        if not segments:
            return np.zeros((0, self.dim), dtype=np.float32), []
        rows, states = [], []
        for seg in segments:
            seg = self._clip(seg)
            mel = self._mel(seg)
            if self.mode == "exact":
                outs = self.encoder.layers(mel)
                n = outs[0].shape[0]
                states.append(outs[self.frame_layer])
            else:
                outs, n = self.encoder.layers(self._padded_mel(seg)), _n_states(len(seg))
            pooled = np.concatenate([_pool(outs[i], n) for i in self.layers])
            rows.append(np.concatenate([pooled, mel_functionals(mel)]) if self.with_mel else pooled)
        return np.stack(rows).astype(np.float32), states

    def mel_only(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """The log-mel functionals alone (``MEL_DIM`` per segment), without running the encoder."""
        return np.stack([mel_functionals(self._mel(s)) for s in segments]).astype(np.float32)

    # ---- internals ------------------------------------------------------------------------------
    def _clip(self, seg: np.ndarray) -> np.ndarray:
        seg = np.asarray(seg, dtype=np.float32).reshape(-1)
        if len(seg) < MIN_SAMPLES:
            seg = np.pad(seg, (0, MIN_SAMPLES - len(seg)))
        return seg[:WINDOW_SAMPLES]

    def _mel(self, seg: np.ndarray) -> np.ndarray:
        seg = self._clip(seg)
        mel = self.whisper.feature_extractor(seg, padding=0)
        n = max(2, (mel.shape[1] // 2) * 2)  # the encoder's convolution halves the frame rate
        return np.ascontiguousarray(mel[:, :n], dtype=np.float32)

    def _padded_mel(self, seg: np.ndarray) -> np.ndarray:
        mel = self.whisper.feature_extractor(seg, padding=WINDOW_SAMPLES - len(seg))
        return np.ascontiguousarray(mel[:, :WINDOW_SAMPLES // HOP], dtype=np.float32)


def change_speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Play ``samples`` at ``factor`` times the speed (tempo and pitch together, like a tape): 0.9 makes
    the segment 11 % longer and 1.8 semitones lower. Used for training augmentation and test-time
    averaging."""
    if factor == 1.0:
        return np.asarray(samples, dtype=np.float32)
    return resample(np.asarray(samples, dtype=np.float32), int(round(SAMPLE_RATE * factor)), SAMPLE_RATE)


LEVEL_FRAME = 320  # 20 ms frames for the active speech level
LEVEL_ACTIVE_DB = 30.0  # frames more than this below the segment's 95th-percentile frame are pauses


def active_level_db(samples: np.ndarray) -> float | None:
    """Active speech level in dB re full scale: the mean power of the segment's 20 ms frames that are no
    more than 30 dB below its 95th-percentile frame (a rule of thumb in the spirit of ITU-T P.56: pauses
    do not lower it). None for digital silence."""
    x = np.asarray(samples, dtype=np.float64)
    n = len(x) // LEVEL_FRAME
    if n == 0:
        power = np.array([np.mean(x ** 2)]) if len(x) else np.zeros(1)
    else:
        power = np.mean(x[: n * LEVEL_FRAME].reshape(n, LEVEL_FRAME) ** 2, axis=1)
    top = float(np.percentile(power, 95))
    if top <= 1e-20:
        return None
    return float(10 * np.log10(np.mean(power[power >= top * 10 ** (-LEVEL_ACTIVE_DB / 10)])))


def apply_gain_db(samples: np.ndarray, db: float) -> np.ndarray:
    """``samples`` scaled by ``db`` decibels, float32."""
    return (np.asarray(samples, dtype=np.float32) * 10 ** (db / 20)).astype(np.float32)


def level_gain_db(samples: np.ndarray, target_db: float) -> float:
    """The gain in dB that brings ``samples``' :func:`active_level_db` to ``target_db`` (0 if silent)."""
    level = active_level_db(samples)
    return 0.0 if level is None else float(target_db - level)


def normalise_level(samples: np.ndarray, target_db: float) -> np.ndarray:
    """``samples`` scaled so that their :func:`active_level_db` is ``target_db`` (unchanged if silent).

    Another microphone or gain setting moves a recording's level by tens of dB; normalising it makes the
    classifier's input independent of that, at the price of the absolute loudness cue (within one corpus
    recorded at a fixed gain, angry speech is louder)."""
    return apply_gain_db(samples, level_gain_db(samples, target_db))


def mel_functionals(mel: np.ndarray) -> np.ndarray:
    """Per band of a ``(bands, frames)`` log-mel: mean, std, p90 - p10 and mean |frame-to-frame change|."""
    m = np.asarray(mel, dtype=np.float64).T
    delta = np.abs(np.diff(m, axis=0)).mean(axis=0) if len(m) > 1 else np.zeros(m.shape[1])
    p10, p90 = np.percentile(m, [10, 90], axis=0)
    return np.concatenate([m.mean(axis=0), m.std(axis=0), p90 - p10, delta])


def _n_states(n_samples: int) -> int:
    """Encoder frames (20 ms each) that cover ``n_samples`` of real audio."""
    return max(1, int(np.ceil(n_samples / (2 * HOP))))


def _pool(states: np.ndarray, n: int) -> np.ndarray:
    s = states[: max(1, min(n, states.shape[0]))]
    return np.concatenate([s.mean(axis=0), s.std(axis=0)])
