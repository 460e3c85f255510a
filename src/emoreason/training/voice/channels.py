"""Recording-channel perturbations of 16 kHz speech: what another corpus's microphone, room or line does.

RAVDESS is studio speech; other corpora are not. These seeded, deterministic transforms (and a level change,
``emoreason.perception.voice.embedding.apply_gain_db``) let the voice model
be tested (``benchmarks/voice_channels.py``) and trained on channels it would otherwise never hear:

- :func:`telephone`: G.711-like narrow band: 300-3,400 Hz, resampled through 8 kHz, 8-bit mu-law;
- :func:`reverb`: a synthetic room (exponentially decaying noise, reverberation time ``rt60`` seconds,
  plus the direct sound);
- :func:`coloured_noise`: pink (1/f) noise at a signal-to-noise ratio in dB.

Approximations, not measured room or line responses: a synthetic impulse response has no early reflections
and a real telephone line adds its own codec and noise.

``scipy.signal`` is imported inside the functions that filter: it is heavy.
"""

from __future__ import annotations

import numpy as np

from emoreason.io.audio import resample

SAMPLE_RATE = 16000
TELEPHONE_RATE = 8000


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def telephone(x: np.ndarray, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    """Band-passed to ``low``-``high`` Hz, resampled to 8 kHz and back, mu-law companded to 8 bits."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 64:
        return x.astype(np.float32)
    at_8k = resample(x, SAMPLE_RATE, TELEPHONE_RATE)
    narrow = band_limit(at_8k, low, high, TELEPHONE_RATE).astype(np.float64)
    peak = float(np.max(np.abs(narrow))) or 1.0
    mu = 255.0
    scaled = narrow / peak
    coded = np.round(np.sign(scaled) * np.log1p(mu * np.abs(scaled)) / np.log1p(mu) * 127) / 127
    decoded = np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(mu)) / mu * peak
    return resample(decoded, TELEPHONE_RATE, SAMPLE_RATE)[: len(x)]


def room_impulse(rt60: float, seed: int, direct_to_reverb_db: float = 0.0) -> np.ndarray:
    """A synthetic impulse response: a unit direct path, then Gaussian noise decaying by 60 dB in ``rt60`` s,
    scaled so that the reverberant energy is ``direct_to_reverb_db`` below the direct sound's."""
    if rt60 <= 0:
        raise ValueError("rt60 must be positive")
    rng = np.random.RandomState(seed)
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(1, n) / SAMPLE_RATE
    tail = rng.randn(n - 1) * 10 ** (-3 * t / rt60)  # -60 dB at rt60
    tail *= 10 ** (-direct_to_reverb_db / 20) / np.sqrt(np.sum(tail ** 2))
    return np.concatenate([[1.0], tail])


def reverb(x: np.ndarray, rt60: float = 0.5, seed: int = 0, direct_to_reverb_db: float = 0.0) -> np.ndarray:
    """``x`` in a synthetic room (:func:`room_impulse`), cut to its length and brought back to its RMS."""
    from scipy.signal import fftconvolve

    x = np.asarray(x, dtype=np.float64)
    if not len(x):
        return x.astype(np.float32)
    wet = fftconvolve(x, room_impulse(rt60, seed, direct_to_reverb_db))[: len(x)]
    level = _rms(wet)
    return (wet * (_rms(x) / level if level > 0 else 1.0)).astype(np.float32)


def pink_noise(n: int, seed: int) -> np.ndarray:
    """``n`` samples of unit-RMS pink (1/f power) noise, shaped in the frequency domain."""
    rng = np.random.RandomState(seed)
    spectrum = np.fft.rfft(rng.randn(max(n, 2)))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(f), max(n, 2))[:n]
    return noise / (_rms(noise) or 1.0)


def coloured_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """``x`` plus pink noise at ``snr_db`` decibels below its RMS."""
    x = np.asarray(x, dtype=np.float64)
    return (x + pink_noise(len(x), seed) * _rms(x) * 10 ** (-snr_db / 20)).astype(np.float32)


def band_limit(x: np.ndarray, low: float, high: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``x`` (at ``sample_rate``) through a 4th-order Butterworth band-pass ``low``-``high`` Hz (zero
    phase)."""
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(x, dtype=np.float64)
    if len(x) < 64:
        return x.astype(np.float32)
    sos = butter(4, [low, high], btype="bandpass", fs=sample_rate, output="sos")
    return sosfiltfilt(sos, x).astype(np.float32)


BAND_LOW_HZ = (80.0, 400.0)  # training augmentation "band": cut-offs drawn uniformly from these ranges
BAND_HIGH_HZ = (2800.0, 6000.0)
ROOM_RT60_S = (0.2, 0.9)  # training augmentation "room": reverberation time and direct-to-reverberant ratio
ROOM_DRR_DB = (-3.0, 9.0)


def random_band(x: np.ndarray, seed: int) -> np.ndarray:
    """Training augmentation: a band-pass with cut-offs drawn (seeded) from BAND_LOW_HZ and BAND_HIGH_HZ."""
    rng = np.random.RandomState(seed)
    return band_limit(x, rng.uniform(*BAND_LOW_HZ), rng.uniform(*BAND_HIGH_HZ))


def random_room(x: np.ndarray, seed: int) -> np.ndarray:
    """Training augmentation: a synthetic room with RT60 and direct-to-reverberant ratio drawn (seeded)
    from ROOM_RT60_S and ROOM_DRR_DB (the impulse's own noise seeded differently from the test channel's)."""
    rng = np.random.RandomState(seed)
    rt60, drr = rng.uniform(*ROOM_RT60_S), rng.uniform(*ROOM_DRR_DB)
    return reverb(x, rt60, seed=10_000_019 + seed, direct_to_reverb_db=drr)
