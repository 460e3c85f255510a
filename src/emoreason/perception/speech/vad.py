"""Voice activity detection: where in a recording someone speaks.

Silero VAD (v6, ONNX, MIT) as shipped inside the faster-whisper wheel and run through its
``faster_whisper.vad.get_speech_timestamps`` — nothing is downloaded. Long recordings are read and
scored one chunk (60 s) at a time, so memory does not grow with their length; a segment cut by a chunk
boundary is joined again. Segments longer than ``max_segment`` (10 s) are split, at the quietest
moment near the middle where the VAD left none, so every segment is at most 10 s long.

``faster_whisper`` (with onnxruntime) is imported inside the function that runs the VAD: it is heavy.
"""

from __future__ import annotations

import numpy as np

from emoreason.io.audio import SAMPLE_RATE, AudioSource

CHUNK_SECONDS = 60.0
MAX_SEGMENT = 10.0
MIN_SILENCE_MS = 300  # a pause this long ends a speech segment
SPEECH_PAD_MS = 100
THRESHOLD = 0.5
LENIENT_THRESHOLD = 0.2  # second pass when the first finds nothing
LENIENT_MARGIN_DB = 15.0  # ... keeping only stretches this far above the noise floor


def detect_speech(audio: AudioSource, min_speech: float = 0.25) -> list[tuple[float, float]]:
    """Speech segments ``(start, end)`` in seconds, sorted, each at most 10 s long.

    ``min_speech``: segments shorter than this (seconds) are dropped.
    """
    segments = _silero_segments(audio, THRESHOLD, min_speech)
    if not segments:
        # Silero scores some shouted or strongly emotional acted speech low (max 0.37-0.75 on 14 of 1,080
        # RAVDESS clips, measured): a second, lenient pass keeps only stretches clearly above the noise floor.
        segments = [(a, b) for a, b in _silero_segments(audio, LENIENT_THRESHOLD, min_speech)
                    if _loud_enough(audio, a, b)]
    out: list[tuple[float, float]] = []
    for start, end in segments:
        out.extend(split_long(audio, start, end, MAX_SEGMENT))
    return [(round(a, 3), round(b, 3)) for a, b in out if b - a >= min_speech]


def _loud_enough(audio: AudioSource, start: float, end: float, margin_db: float = LENIENT_MARGIN_DB) -> bool:
    """True when the stretch's energy is ``margin_db`` over the recording's quietest tenth (the noise
    floor)."""
    x = audio.read(max(0.0, start - 2.0), min(audio.duration, end + 2.0)).astype(np.float64)
    n = int(0.02 * SAMPLE_RATE)
    if len(x) < 10 * n:
        return False
    frames_db = 10 * np.log10((x[: len(x) // n * n].reshape(-1, n) ** 2).mean(axis=1) + 1e-10)
    seg = audio.read(start, end).astype(np.float64)
    seg_db = 10 * np.log10((seg ** 2).mean() + 1e-10)
    return bool(seg_db - np.percentile(frames_db, 10) >= margin_db)


def _silero_segments(audio: AudioSource, threshold: float, min_speech: float) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=threshold,
        min_speech_duration_ms=int(min_speech * 1000),
        max_speech_duration_s=MAX_SEGMENT,
        min_silence_duration_ms=MIN_SILENCE_MS,
        speech_pad_ms=SPEECH_PAD_MS,
    )
    segments: list[tuple[float, float]] = []
    t = 0.0
    while t < audio.duration:
        end = min(audio.duration, t + CHUNK_SECONDS)
        samples = audio.read(t, end)
        if len(samples) >= 512:
            for ts in get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE):
                segments.append((t + ts["start"] / SAMPLE_RATE, t + ts["end"] / SAMPLE_RATE))
        t = end
    return _join_at_chunk_edges(segments, audio.duration)


def _join_at_chunk_edges(segments: list[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
    """Join a segment that ends at a chunk boundary with one that starts there."""
    edges = {round(k * CHUNK_SECONDS, 3) for k in range(1, int(duration // CHUNK_SECONDS) + 1)}
    joined: list[tuple[float, float]] = []
    for a, b in segments:
        if joined:
            pa, pb = joined[-1]
            at_edge = any(abs(pb - e) < 0.05 and abs(a - e) < SPEECH_PAD_MS / 1000 + 0.05 for e in edges)
            if at_edge:
                joined[-1] = (pa, b)
                continue
        joined.append((a, b))
    return joined


def split_long(audio: AudioSource, start: float, end: float, max_len: float = MAX_SEGMENT
               ) -> list[tuple[float, float]]:
    """Split ``[start, end]`` into pieces of at most ``max_len`` seconds, each cut at the quietest
    20 ms frame in the middle half of the stretch that must be cut."""
    if end - start <= max_len:
        return [(start, end)]
    n_pieces = int(np.ceil((end - start) / max_len))
    target = (end - start) / n_pieces
    lo, hi = start + 0.5 * target, min(end - 0.25 * target, start + max_len)
    cut = _quietest(audio, lo, hi)
    return [(start, cut)] + split_long(audio, cut, end, max_len)


def _quietest(audio: AudioSource, lo: float, hi: float) -> float:
    x = audio.read(lo, hi)
    frame = int(0.02 * SAMPLE_RATE)
    n = len(x) // frame
    if n < 2:
        return (lo + hi) / 2
    energy = (x[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    return lo + (int(np.argmin(energy)) + 0.5) * frame / SAMPLE_RATE
