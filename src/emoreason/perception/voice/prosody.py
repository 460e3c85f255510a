"""Prosody of speech segments: pitch, loudness, rate, pauses and cheap voice-quality proxies.

F0 from WORLD (``pyworld``: DIO + StoneMask refinement, 10 ms frames, 60-600 Hz); everything else
from numpy on 25 ms frames with a 10 ms hop. Values per segment (one row each):

- ``f0_mean_hz``, ``f0_median_hz``, ``f0_mean_st`` (semitones above 100 Hz), ``f0_range_st``
  (90th minus 10th percentile, semitones), ``f0_slope_st_s`` (least-squares slope over voiced frames,
  semitones per second), ``voiced_fraction`` (share of active frames with F0).
- ``energy_mean_db``, ``energy_range_db`` (RMS in dB full scale over active frames; p90 - p10).
- ``rate_syl_s``: syllable nuclei per second of speech -- an ESTIMATE from peaks of the loudness
  envelope in voiced stretches (no phone recogniser), good for "faster/slower than this speaker".
- ``pauses``, ``pause_s``: silences of at least 150 ms inside the segment (more than 30 dB below its
  loud frames).
- ``jitter_rel`` (mean |period difference| / mean period between adjacent voiced frames) and
  ``shimmer_db`` (mean |dB difference| between adjacent voiced frames): frame-level proxies, NOT
  Praat's cycle-level jitter/shimmer (parselmouth is GPL and never a default here).
- ``centroid_hz`` (spectral centroid), ``hf_ratio_db`` (energy above 1 kHz relative to below).
Features that cannot be measured (no voiced frame) are NaN.

``pyworld``, ``scipy.signal`` and ``pandas`` are imported inside the functions that use them: they are
heavy, and the voice stage's modules are imported by everything that may run it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from emoreason.io.audio import SAMPLE_RATE, AudioSource

FRAME = int(0.025 * SAMPLE_RATE)
HOP = int(0.010 * SAMPLE_RATE)
F0_FLOOR, F0_CEIL = 60.0, 600.0
SILENCE_DB = 30.0  # frames this far below the segment's loud level count as silence
MIN_PAUSE_S = 0.15

COLUMNS: tuple[str, ...] = (
    "f0_mean_hz", "f0_median_hz", "f0_mean_st", "f0_range_st", "f0_slope_st_s", "voiced_fraction",
    "energy_mean_db", "energy_range_db", "rate_syl_s", "pauses", "pause_s", "jitter_rel", "shimmer_db",
    "centroid_hz", "hf_ratio_db",
)


def f0_track(samples: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """F0 in Hz every 10 ms (0 where unvoiced), WORLD DIO refined by StoneMask."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyworld imports pkg_resources
        import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    if len(x) < 2 * FRAME:
        return np.zeros(0)
    f0, t = pyworld.dio(x, sr, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=10.0)
    return pyworld.stonemask(x, f0, t, sr)


def _frames(x: np.ndarray) -> np.ndarray:
    n = 1 + max(0, (len(x) - FRAME) // HOP)
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    return np.pad(x, (0, max(0, FRAME - len(x))))[idx]


def _semitones(f0: np.ndarray) -> np.ndarray:
    return 12.0 * np.log2(f0 / 100.0)


def prosody_features(samples: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
    """The prosody values (see the module doc) of one stretch of speech."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    out = dict.fromkeys(COLUMNS, float("nan"))
    if len(x) < 2 * FRAME or not np.any(x):
        return out
    frames = _frames(x)
    rms_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.percentile(rms_db, 95)
    active = rms_db > loud - SILENCE_DB
    f0 = f0_track(x, sr)
    n = min(len(f0), len(rms_db))
    f0, rms_n, active_n = f0[:n], rms_db[:n], active[:n]
    voiced = (f0 > 0) & active_n

    act_db = rms_db[active]
    out["energy_mean_db"] = float(act_db.mean())
    out["energy_range_db"] = float(np.percentile(act_db, 90) - np.percentile(act_db, 10))
    out["voiced_fraction"] = float(voiced.sum() / max(1, active_n.sum()))
    if voiced.sum() >= 3:
        fv = f0[voiced]
        st = _semitones(fv)
        times = np.flatnonzero(voiced) * HOP / sr
        out["f0_mean_hz"] = float(fv.mean())
        out["f0_median_hz"] = float(np.median(fv))
        out["f0_mean_st"] = float(st.mean())
        out["f0_range_st"] = float(np.percentile(st, 90) - np.percentile(st, 10))
        out["f0_slope_st_s"] = float(np.polyfit(times, st, 1)[0]) if np.ptp(times) > 0 else 0.0
        pairs = voiced[1:] & voiced[:-1]
        if pairs.any():
            period = 1.0 / np.where(f0 > 0, f0, np.inf)
            out["jitter_rel"] = float(np.mean(np.abs(np.diff(period))[pairs]) / np.mean(period[voiced]))
            out["shimmer_db"] = float(np.mean(np.abs(np.diff(rms_n))[pairs]))
    speech_s = active.sum() * HOP / sr
    out["rate_syl_s"] = _syllable_nuclei(rms_n, voiced) / speech_s if speech_s > 0 else float("nan")
    out["pauses"], out["pause_s"] = _pauses(active)
    out["centroid_hz"], out["hf_ratio_db"] = _spectral(frames[active], sr)
    return out


def _syllable_nuclei(rms_db: np.ndarray, voiced: np.ndarray) -> int:
    """Count loudness peaks in voiced frames that stand 2 dB above the dips around them (estimate)."""
    from scipy.signal import find_peaks

    if len(rms_db) < 3:
        return 0
    env = np.convolve(rms_db, np.ones(5) / 5, mode="same")
    peaks, _ = find_peaks(env, prominence=2.0, distance=int(0.1 * SAMPLE_RATE / HOP))
    return int(np.sum(voiced[peaks]))


def _pauses(active: np.ndarray) -> tuple[float, float]:
    """Silent runs of at least MIN_PAUSE_S between the first and last active frame."""
    idx = np.flatnonzero(active)
    if len(idx) == 0:
        return 0.0, 0.0
    inner = ~active[idx[0]: idx[-1] + 1]
    runs, count, total, length = [], 0, 0.0, 0
    for silent in np.append(inner, False):
        if silent:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    for r in runs:
        if r * HOP / SAMPLE_RATE >= MIN_PAUSE_S:
            count += 1
            total += r * HOP / SAMPLE_RATE
    return float(count), float(total)


def _spectral(frames: np.ndarray, sr: int) -> tuple[float, float]:
    if len(frames) == 0:
        return float("nan"), float("nan")
    spec = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(FRAME, 1.0 / sr)
    power = spec.sum(axis=0) + 1e-12
    centroid = float((freqs * power).sum() / power.sum())
    hf = float(10 * np.log10(power[freqs >= 1000].sum() / power[freqs < 1000].sum()))
    return centroid, hf


def analyze_prosody(audio: AudioSource, segments: Sequence[tuple[float, float]]):
    """A pandas DataFrame with one row per segment: ``start``, ``end``, ``duration`` and :data:`COLUMNS`."""
    import pandas as pd

    rows = []
    for start, end in segments:
        row = {"start": float(start), "end": float(end), "duration": float(end - start)}
        row.update(prosody_features(audio.read(start, end)))
        rows.append(row)
    return pd.DataFrame(rows, columns=["start", "end", "duration", *COLUMNS])
