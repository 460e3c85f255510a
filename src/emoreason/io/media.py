"""One decoding pass over a media file with PyAV: frames at a chosen rate, audio as 16 kHz mono.

A file with several audio streams is analysed on the one that carries speech
(:func:`choose_audio_stream`), named in a note.

Frames are handed to a callback as they are decoded (never held), and audio is appended to a
temporary WAV file, so memory does not grow with the length of the input.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from emoreason.errors import (
    CorruptMediaError,
    UnsupportedFormatError,
)
from emoreason.io.audio import SAMPLE_RATE, ArrayAudio
from emoreason.io.guard import current_guard
from emoreason.io.image import IMAGE_SUFFIXES, load_image
from emoreason.io.paths import check_path

log = logging.getLogger(__name__)

STREAM_SCAN_S = 30.0  # seconds of each audio stream scanned for speech when a file has several
STREAM_SPEECH_MARGIN = 0.8  # streams with at least this share of the most speech count as equal
FrameCallback = Callable[[float, np.ndarray], None]


@dataclass
class MediaInfo:
    """What a file holds, read from its container headers (no decoding)."""

    path: Path
    kind: str  # "video", "audio" or "image"
    duration: float | None
    has_video: bool
    has_audio: bool
    width: int = 0
    height: int = 0
    fps: float | None = None


@dataclass
class DecodeStats:
    frames_decoded: int = 0
    frames_sampled: int = 0
    audio_seconds: float = 0.0
    video_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    stated: float | None = None  # the container's stated duration (s), if any


def probe(path: str | Path) -> MediaInfo:
    """Open the container and report its streams; a file ffmpeg cannot read is an error."""
    path = check_path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        rgb = load_image(path)
        return MediaInfo(path, "image", None, True, False, rgb.shape[1], rgb.shape[0])
    try:
        with av.open(str(path)) as container:
            vs = next((s for s in container.streams.video), None)
            aus = next((s for s in container.streams.audio), None)
            if vs is None and aus is None:
                raise UnsupportedFormatError(f"{path}: holds no audio or video stream")
            duration = _duration(container, vs, aus)
            fps = float(vs.average_rate) if vs is not None and vs.average_rate else None
            is_still = vs is not None and aus is None and (vs.frames == 1 or _is_image_format(container))
            if is_still:
                rgb = load_still(path)
                return MediaInfo(path, "image", None, True, False, rgb.shape[1], rgb.shape[0])
            return MediaInfo(
                path, "video" if vs is not None else "audio", duration, vs is not None, aus is not None,
                vs.codec_context.width if vs is not None else 0,
                vs.codec_context.height if vs is not None else 0, fps,
            )
    except av.error.FFmpegError as exc:
        raise UnsupportedFormatError(
            f"{path}: cannot be decoded: not a media file, or truncated/corrupt ({_reason(exc)})") from None


def load_still(path: str | Path, notes: list[str] | None = None) -> np.ndarray:
    """A still's pixels as HxWx3 uint8 RGB: an image file through :func:`load_image`, or the one frame of
    a video that holds a single frame (decoded by PyAV; ``notes`` then says it was read as a still)."""
    path = check_path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return load_image(path, notes)
    try:
        with av.open(str(path)) as container:
            if _is_image_format(container) or not container.streams.video:
                return load_image(path, notes)
            frame = next(container.decode(video=0), None)
            if frame is None:
                raise CorruptMediaError(f"{path}: the video stream holds no decodable frame")
            rgb = _to_rgb(frame, 0)
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(f"{path}: the video's frame cannot be decoded ({_reason(exc)})") from None
    if notes is not None:
        notes.append("the video holds a single frame: it was analysed as a still image")
    return rgb


def _is_image_format(container) -> bool:
    name = container.format.name
    return name == "image2" or name.endswith("_pipe")


def choose_audio_stream(path: Path, streams: list, seconds: float = STREAM_SCAN_S) -> tuple:
    """The audio stream to analyse among ``streams`` (a container's), and a note naming it (None when
    there is only one).

    The stream with the most speech (voice activity, Silero) in its first ``seconds`` wins; streams within
    :data:`STREAM_SPEECH_MARGIN` of it count as equal, and among those the container's default-flagged one,
    else the first, is taken. The default flag alone decides nothing: the mp4 muxer flags the first audio
    track whatever it holds and Matroska files often flag none or all, so a silent first track would win.
    """
    if len(streams) == 1:
        return streams[0], None
    speech = _speech_seconds_per_stream(path, [s.index for s in streams], seconds)
    best = max(speech.values())
    close = [s for s in streams if speech[s.index] >= best * STREAM_SPEECH_MARGIN] if best > 0 else streams
    default = [s for s in close if s.disposition & av.stream.Disposition.default]
    chosen = (default or close)[0]
    others = ", ".join(f"{speech[s.index]:.1f} s in stream #{s.index}" for s in streams if s is not chosen)
    why = "default-flagged, " if default else ""
    return chosen, (f"the file has {len(streams)} audio streams: analysed stream #{chosen.index} ({why}"
                    f"{speech[chosen.index]:.1f} s of speech in its first {seconds:g} s against {others})")


def _speech_seconds_per_stream(path: Path, indices: list[int], seconds: float) -> dict[int, float]:
    """Seconds of speech the voice activity detector finds in the first ``seconds`` of each audio stream."""
    # imported here: io needs the voice activity detector only for files with several audio streams
    from emoreason.perception.speech.vad import detect_speech

    chunks: dict[int, list[np.ndarray]] = {i: [] for i in indices}
    done: dict[int, float] = dict.fromkeys(indices, 0.0)
    with av.open(str(path)) as container:
        wanted = [s for s in container.streams.audio if s.index in chunks]
        resamplers = {s.index: av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
                      for s in wanted}
        for packet in container.demux(wanted):
            i = packet.stream.index
            if done[i] >= seconds:
                if all(v >= seconds for v in done.values()):
                    break
                continue
            for frame in _decode_packet(packet, DecodeStats()):
                for out in resamplers[i].resample(frame):
                    x = out.to_ndarray().reshape(-1)
                    chunks[i].append(x)
                    done[i] += len(x) / SAMPLE_RATE
    speech = {}
    for i in indices:
        x = np.concatenate(chunks[i]) if chunks[i] else np.zeros(0, np.float32)
        x = x[: int(seconds * SAMPLE_RATE)]
        segs = detect_speech(ArrayAudio(x)) if len(x) >= SAMPLE_RATE // 2 else []
        speech[i] = float(sum(b - a for a, b in segs))
    return speech


def decode(
    path: str | Path,
    *,
    fps: float = 5.0,
    on_frame: FrameCallback | None = None,
    audio_path: str | Path | None = None,
    max_side: int = 960,
    progress: Callable[[float], None] | None = None,
    check_truncation: bool = True,
) -> DecodeStats:
    """Decode ``path`` once: frames sampled at ``fps`` go to ``on_frame(t, rgb)``; audio to ``audio_path``.

    ``audio_path`` receives 16 kHz mono float32 WAV (written as decoded). Frames larger than
    ``max_side`` pixels on their long side are downscaled. ``progress(t)`` is called with the media
    time reached. A stream that breaks part-way is kept up to the break and noted in the stats; one
    that yields nothing is a :class:`CorruptMediaError`. Media that stops over a second before its
    header's duration gets a note (:func:`truncation_note`) unless ``check_truncation`` is False (a caller
    decoding a file's streams in separate passes judges them together). Under
    :func:`emoreason.io.guard.decode_guard`, decoding stops once the decoded time passes its limit, or when
    it is cancelled.
    """
    path = check_path(path)
    stats = DecodeStats()
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise UnsupportedFormatError(
            f"{path}: cannot be decoded: not a media file, or truncated/corrupt ({_reason(exc)})") from None
    writer = None
    stated = stats.stated = container.duration / 1_000_000 if container.duration else None
    guard = current_guard()
    with container:
        vs = next((s for s in container.streams.video), None) if on_frame is not None else None
        aus = None
        if audio_path is not None and container.streams.audio:
            aus, note = choose_audio_stream(path, list(container.streams.audio))
            if note:
                stats.notes.append(note)
        streams = [s for s in (vs, aus) if s is not None]
        if not streams:
            return stats
        if vs is not None:
            vs.thread_type = "AUTO"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE) if aus else None
        if aus is not None:
            writer = sf.SoundFile(str(audio_path), "w", samplerate=SAMPLE_RATE, channels=1, subtype="FLOAT")
        step = 1.0 / fps if fps > 0 else 0.0
        next_t = 0.0
        try:
            for packet in container.demux(streams):
                for frame in _decode_packet(packet, stats):
                    if guard is not None:
                        guard.check(max(stats.video_seconds, stats.audio_seconds), stats.frames_decoded)
                    if isinstance(frame, av.VideoFrame):
                        t = float(frame.time) if frame.time is not None else stats.frames_decoded / 25.0
                        stats.frames_decoded += 1
                        stats.video_seconds = max(stats.video_seconds, t)
                        if t + 1e-6 >= next_t:
                            next_t = (math.floor(t / step + 1e-6) + 1) * step if step else t
                            on_frame(t, _to_rgb(frame, max_side))  # type: ignore[misc]
                            stats.frames_sampled += 1
                            if progress:
                                progress(t)
                    elif isinstance(frame, av.AudioFrame) and resampler is not None:
                        for out in resampler.resample(frame):
                            samples = out.to_ndarray().reshape(-1)
                            writer.write(samples)
                            stats.audio_seconds += len(samples) / SAMPLE_RATE
            if resampler is not None:
                for out in resampler.resample(None):
                    samples = out.to_ndarray().reshape(-1)
                    writer.write(samples)
                    stats.audio_seconds += len(samples) / SAMPLE_RATE
        finally:
            if writer is not None:
                writer.close()
    note = truncation_note(stated, max(stats.video_seconds, stats.audio_seconds))
    if check_truncation and note:
        stats.notes.append(note)
    if vs is not None and stats.frames_decoded == 0:
        raise CorruptMediaError(f"{path}: the video stream holds no decodable frame (truncated or corrupt)")
    if aus is not None and vs is None and stats.audio_seconds == 0:
        raise CorruptMediaError(f"{path}: the audio stream holds no decodable sound (truncated or corrupt)")
    return stats


def truncation_note(stated: float | None, reached: float) -> str | None:
    """A note when the decoded media (``reached`` s) stops over a second before the ``stated`` duration."""
    if stated and reached and reached < stated - 1.0:
        return (f"the media stops at {reached:.1f} s although its header says {stated:.1f} s "
                "(truncated?): analysed what could be decoded")
    return None


def _decode_packet(packet, stats: DecodeStats):
    try:
        return packet.decode()
    except av.error.FFmpegError as exc:
        t = float(packet.pts * packet.time_base) if packet.pts is not None and packet.time_base else None
        note = f"a damaged {packet.stream.type} packet was skipped" + (
            f" at {t:.2f} s" if t is not None else "")
        if note not in stats.notes:
            stats.notes.append(note)
        log.debug("decode error: %s", _reason(exc))
        return []


def _to_rgb(frame, max_side: int) -> np.ndarray:
    w, h = frame.width, frame.height
    scale = min(1.0, max_side / max(w, h)) if max_side else 1.0
    if scale < 1.0:
        w, h = max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)
        return frame.to_ndarray(format="rgb24", width=w, height=h)
    return frame.to_ndarray(format="rgb24")


def _duration(container, vs, aus) -> float | None:
    if container.duration:
        return container.duration / 1_000_000
    for s in (vs, aus):
        if s is not None and s.duration and s.time_base:
            return float(s.duration * s.time_base)
    return None


def _reason(exc: Exception) -> str:
    msg = getattr(exc, "strerror", None) or str(exc)
    return msg.split(":")[-1].strip() if msg else exc.__class__.__name__


def read_frame_at(path: str | Path, t: float, max_side: int = 960) -> np.ndarray | None:
    """The RGB frame nearest to time ``t`` (seconds), decoded by seeking; None if there is none."""
    path = check_path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return load_image(path)
    with av.open(str(path)) as container:
        vs = next((s for s in container.streams.video), None)
        if vs is None:
            return None
        if t > 0.5 and vs.time_base:
            container.seek(int(max(0.0, t - 0.5) / vs.time_base), stream=vs, backward=True)
        best = None
        for frame in container.decode(vs):
            if frame.time is None:
                continue
            best = frame
            if frame.time + 1e-6 >= t:
                break
        return _to_rgb(best, max_side) if best is not None else None
