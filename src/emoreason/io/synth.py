"""Write media files with PyAV: used by the demo clip and by tests that need real containers."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from emoreason.io.atomic import atomic_path


def write_media(
    path: str | Path,
    frames: Iterable[np.ndarray] | None = None,
    *,
    fps: int = 25,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    video_codec: str = "mpeg4",
) -> Path:
    """Write an mp4/mkv/avi (video, optional audio) or a wav/flac/m4a/mp3 (audio only) file atomically.

    ``frames`` are HxWx3 uint8 RGB arrays of one size (even width and height); ``audio`` is mono float
    in -1..1 at ``sample_rate``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        with av.open(str(tmp), "w", format=_format_for(path)) as out:
            vstream = None
            frame_iter = iter(frames) if frames is not None else None
            first = next(frame_iter, None) if frame_iter is not None else None
            if first is not None:
                vstream = out.add_stream(video_codec, rate=fps)
                vstream.width, vstream.height = first.shape[1], first.shape[0]
                vstream.pix_fmt = "yuv420p"
                vstream.options = {"qscale": "4"} if video_codec == "mpeg4" else {}
            astream = None
            if audio is not None:
                codec = _audio_codec(path)
                astream = out.add_stream(codec, rate=48000 if codec == "libopus" else sample_rate)
                astream.layout = "mono"
            if vstream is not None:
                for i, rgb in enumerate(_chain(first, frame_iter)):
                    vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, dtype=np.uint8), format="rgb24")
                    vf.pts = i
                    vf.time_base = Fraction(1, fps)
                    for packet in vstream.encode(vf):
                        out.mux(packet)
                for packet in vstream.encode(None):
                    out.mux(packet)
            if astream is not None:
                _write_audio(out, astream, np.asarray(audio, dtype=np.float32), sample_rate)
    return path


def _chain(first, rest):
    yield first
    if rest is not None:
        yield from rest


def _write_audio(out, astream, audio: np.ndarray, sr: int) -> None:
    formats = astream.codec_context.codec.audio_formats
    fmt = formats[0].name if formats else "s16"
    resampler = av.AudioResampler(format=fmt, layout="mono", rate=astream.codec_context.sample_rate)
    chunk = 1024
    pts = 0
    for i in range(0, len(audio), chunk * 16):
        block = np.clip(audio[i:i + chunk * 16], -1, 1).reshape(1, -1).astype(np.float32)
        af = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
        af.sample_rate = sr
        af.pts = pts
        pts += block.shape[1]
        for rf in resampler.resample(af):
            for packet in astream.encode(rf):
                out.mux(packet)
    for rf in resampler.resample(None):
        for packet in astream.encode(rf):
            out.mux(packet)
    for packet in astream.encode(None):
        out.mux(packet)


def _format_for(path: Path) -> str:
    return {".mp4": "mp4", ".m4a": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi",
            ".wav": "wav", ".flac": "flac", ".mp3": "mp3", ".ogg": "ogg"}.get(path.suffix.lower(), "mp4")


def _audio_codec(path: Path) -> str:
    return {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".ogg": "libopus",
            ".webm": "libopus", ".avi": "pcm_s16le", ".mkv": "aac"}.get(path.suffix.lower(), "aac")


def tone(seconds: float, freq: float = 220.0, sr: int = 16000, amp: float = 0.3) -> np.ndarray:
    """A harmonic tone with a syllable-like amplitude envelope (4 Hz), as a stand-in for voiced sound."""
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))
    env = 0.5 * (1 - np.cos(2 * np.pi * 4 * t))
    return (amp * wave * env / 1.8).astype(np.float32)
