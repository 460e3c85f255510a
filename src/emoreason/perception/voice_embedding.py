"""Whisper encoder states pooled over a speech segment: a fixed-length voice embedding.

The encoder is the one in :func:`emoreason.perception.whisper.load_whisper` (Whisper tiny.en,
CTranslate2 int8, offline). Two ways to feed it:

- ``"exact"`` (default): the log-mel frames of the segment only. CTranslate2's Whisper encoder accepts
  inputs shorter than 30 s; this costs about 0.02 s for a 4 s segment on one laptop core, instead of
  the 0.4-0.6 s of a 30 s padded window.
- ``"padded"``: the segment zero-padded to Whisper's 30 s window, as Whisper was trained; batched,
  then only the frames that cover the real audio are pooled.

Pooling: mean and standard deviation over the encoder frames that cover real audio (each encoder frame
is 20 ms), so the embedding has ``2 * 384`` values for tiny.en. With ``with_mel=True`` each row also
holds functionals of the segment's own 80-band log-mel frames (the encoder's input): per band the mean,
standard deviation, p90 - p10 range and mean absolute frame-to-frame change (``MEL_DIM`` = 320 values).
A classifier must be trained with the same mode and blocks it is used with: both are recorded in the
shipped model's config.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError

SAMPLE_RATE = 16000
HOP = 160  # samples per log-mel frame (10 ms)
WINDOW_SAMPLES = 30 * SAMPLE_RATE
MIN_SAMPLES = 4 * HOP  # shortest segment we embed (40 ms)
MODES = ("exact", "padded")
MEL_BANDS = 80
MEL_DIM = 4 * MEL_BANDS  # mean, std, p90 - p10, mean |delta| per band


class WhisperVoiceEmbedder:
    """Pooled Whisper encoder states for speech segments (mono float32, 16 kHz)."""

    def __init__(self, model_dir: str | Path | None = None, mode: str = "exact", batch_size: int = 4,
                 with_mel: bool = False):
        if mode not in MODES:
            raise ModelError(f"unknown Whisper embedding mode {mode!r}; choose one of {', '.join(MODES)}")
        from emoreason.perception.whisper import load_whisper

        self.whisper = load_whisper(model_dir)
        self.mode = mode
        self.batch_size = max(1, int(batch_size))
        self.with_mel = bool(with_mel)
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        """Length of one embedding (2 x the encoder's width, plus MEL_DIM ``with_mel``)."""
        if self._dim is None:
            width = 2 * int(self._encode(np.zeros((1, MEL_BANDS, 4), dtype=np.float32)).shape[-1])
            self._dim = width + (MEL_DIM if self.with_mel else 0)
        return self._dim

    def embed(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """One row (mean, std of encoder states; then the log-mel functionals ``with_mel``) per segment:
        shape ``(len(segments), dim)``."""
        if not segments:
            return np.zeros((0, 0), dtype=np.float32)
        rows: list[np.ndarray] = []
        if self.mode == "exact":
            for seg in segments:
                mel = self._mel(seg)
                states = self._encode(mel[None])[0]
                pooled = _pool(states, states.shape[0])
                rows.append(np.concatenate([pooled, mel_functionals(mel)]) if self.with_mel else pooled)
            return np.stack(rows).astype(np.float32)
        for i in range(0, len(segments), self.batch_size):
            batch = [self._clip(s) for s in segments[i:i + self.batch_size]]
            mels = np.stack([self._padded_mel(s) for s in batch])
            states = self._encode(mels)
            for s, st in zip(batch, states):
                pooled = _pool(st, _n_states(len(s)))
                rows.append(np.concatenate([pooled, mel_functionals(self._mel(s))]) if self.with_mel else pooled)
        return np.stack(rows).astype(np.float32)

    def states(self, segments: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The encoder states of each segment ("exact" mode: the segment's own frames, one row per
        20 ms), for a classifier on frames (:class:`emoreason.perception.voice.VoiceClassifier`)."""
        return [self._encode(self._mel(seg)[None])[0] for seg in segments]

    def embed_with_states(self, segments: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """:meth:`embed` ("exact" mode) and the encoder states it pooled, from one encoder call per segment."""
        if self.mode != "exact":
            raise ModelError("frame states are only available in the 'exact' mode")
        rows, states = [], []
        for seg in segments:
            mel = self._mel(seg)
            st = self._encode(mel[None])[0]
            pooled = _pool(st, st.shape[0])
            rows.append(np.concatenate([pooled, mel_functionals(mel)]) if self.with_mel else pooled)
            states.append(st)
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

    def _encode(self, mels: np.ndarray) -> np.ndarray:
        import ctranslate2

        out = self.whisper.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mels)),
                                        to_cpu=True)
        return np.asarray(out, dtype=np.float32)


def change_speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Play ``samples`` at ``factor`` times the speed (tempo and pitch together, like a tape): 0.9 makes
    the segment 11 % longer and 1.8 semitones lower. Used for training augmentation and test-time
    averaging."""
    from emoreason.io.audio import resample

    if factor == 1.0:
        return np.asarray(samples, dtype=np.float32)
    return resample(np.asarray(samples, dtype=np.float32), int(round(SAMPLE_RATE * factor)), SAMPLE_RATE)


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
