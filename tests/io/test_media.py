import tracemalloc

import av
import numpy as np
import pytest
from tests.conftest import requires_espeak

import emoreason
from emoreason.errors import (
    EmptyInputError,
    InputNotFoundError,
    UnsupportedFormatError,
)
from emoreason.io.audio import ArrayAudio, WavFileAudio
from emoreason.io.demo_clip import speak
from emoreason.io.media import decode, probe, read_frame_at
from emoreason.io.synth import tone, write_media


@pytest.fixture()
def small_video(tmp_path):
    frames = [np.full((64, 96, 3), i * 10, np.uint8) for i in range(25)]
    return write_media(tmp_path / "v.mp4", frames, fps=25, audio=tone(1.0))


def test_probe_and_one_pass_decode(small_video, tmp_path):
    info = probe(small_video)
    assert info.kind == "video" and info.has_audio and info.width == 96
    times = []
    stats = decode(small_video, fps=5, on_frame=lambda t, f: times.append(t), audio_path=tmp_path / "a.wav")
    assert np.allclose(times, [0.0, 0.2, 0.4, 0.6, 0.8])
    audio = WavFileAudio(tmp_path / "a.wav")
    assert audio.duration == pytest.approx(1.0, abs=0.1)
    assert stats.frames_decoded == 25


def test_frame_at_time(small_video):
    f = read_frame_at(small_video, 0.5)
    assert f.shape == (64, 96, 3)
    assert abs(int(f.mean()) - 120) < 15  # frame 12 of a brightness ramp


@pytest.mark.parametrize("suffix", [".mkv", ".avi", ".webm", ".mov"])
def test_other_containers(tmp_path, suffix):
    codec = "libvpx" if suffix == ".webm" else "mpeg4"
    frames = [np.zeros((32, 32, 3), np.uint8)] * 10
    p = write_media(tmp_path / f"v{suffix}", frames, fps=10, video_codec=codec)
    assert probe(p).kind == "video"


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3", ".ogg", ".m4a"])
def test_audio_formats(tmp_path, suffix):
    p = write_media(tmp_path / f"a{suffix}", audio=tone(1.0))
    info = probe(p)
    assert info.kind == "audio"
    decode(p, audio_path=tmp_path / "out.wav")
    assert WavFileAudio(tmp_path / "out.wav").duration == pytest.approx(1.0, abs=0.15)


def test_bad_inputs(tmp_path, small_video):
    with pytest.raises(InputNotFoundError):
        probe(tmp_path / "missing.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(EmptyInputError):
        probe(tmp_path / "empty.mp4")
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 50)
    with pytest.raises(UnsupportedFormatError):
        probe(tmp_path / "text.mp4")
    with pytest.raises(UnsupportedFormatError):
        probe(tmp_path)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(UnsupportedFormatError):
        probe(tmp_path / "bad.png")


def test_truncated_mp4_is_reported(tmp_path, small_video):
    data = small_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # mp4 written with its index at the end: unreadable when cut
    with pytest.raises(UnsupportedFormatError, match="truncated"):
        probe(cut)


def test_truncated_mkv_keeps_the_part_before_the_break(tmp_path):
    frames = [np.full((64, 96, 3), i * 5, np.uint8) for i in range(75)]
    full = write_media(tmp_path / "v.mkv", frames, fps=25, audio=tone(3.0))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    times = []
    stats = decode(cut, fps=5, on_frame=lambda t, f: times.append(t), audio_path=tmp_path / "a.wav")
    assert 0 < len(times) < 15
    assert any("truncated" in n for n in stats.notes)


def test_array_audio_resamples_and_mixes_down():
    a = ArrayAudio(np.stack([tone(1.0, sr=48000, amp=0.2)] * 2), 48000)
    assert a.sample_rate == 16000 and a.duration == pytest.approx(1.0, abs=1e-3)
    assert a.read(0.25, 0.5).shape == (4000,)


def test_an_hour_of_video_streams_in_constant_memory(tmp_path):
    frames = (np.full((32, 32, 3), i % 255, np.uint8) for i in range(3600))
    hour = write_media(tmp_path / "hour.mkv", frames, fps=1)  # one frame a second for an hour
    assert probe(hour).duration == pytest.approx(3600, abs=2)
    seen = []
    tracemalloc.start()
    decode(hour, fps=0.5, on_frame=lambda t, f: seen.append(t))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(seen) == 1800 and seen[-1] == pytest.approx(3598)
    assert peak < 5_000_000  # frames are handed on, never kept


def _two_audio_tracks(path, tracks, sr=16000):
    """An mp4/mkv holding one AAC stream per array in ``tracks`` (mono float at ``sr``), in that order."""
    with av.open(str(path), "w") as out:
        streams = [out.add_stream("aac", rate=sr) for _ in tracks]
        for stream in streams:
            stream.layout = "mono"  # before any stream's codec opens
        for stream, x in zip(streams, tracks):
            resampler = av.AudioResampler(format=stream.codec_context.codec.audio_formats[0].name,
                                          layout="mono", rate=sr)
            frame = av.AudioFrame.from_ndarray(np.asarray(x, np.float32).reshape(1, -1), format="flt",
                                               layout="mono")
            frame.sample_rate, frame.pts = sr, 0
            for f in resampler.resample(frame) + resampler.resample(None):
                for packet in stream.encode(f):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    return path


@requires_espeak
@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_wrong_answer_silent_first_audio_stream_skipped_for_the_speech_one(tmp_path, suffix):
    speech = speak("Hello, I am speaking on the second audio track of this file.")
    silent = np.zeros_like(speech)
    clip = _two_audio_tracks(tmp_path / f"two{suffix}", [silent, speech])
    with av.open(str(clip)) as c:  # the mp4 muxer flags the silent first track as the default one
        flagged = [bool(s.disposition & av.stream.Disposition.default) for s in c.streams.audio]
    assert flagged == ([True, False] if suffix == ".mp4" else [False, False])
    stats = decode(clip, audio_path=tmp_path / "a.wav")
    assert any("analysed stream #1" in n and "2 audio streams" in n for n in stats.notes)
    audio = WavFileAudio(tmp_path / "a.wav")
    assert np.abs(audio.read()).max() > 0.05  # the speech, not the silence
    r = emoreason.analyze(clip, modalities="voice")  # was: "no speech detected"
    assert r.modalities["voice"].used and any("stream #1" in n for n in r.notes)


def test_audio_stream_choice_prefers_the_default_flag_among_equals(tmp_path):
    x = tone(2.0)
    clip = _two_audio_tracks(tmp_path / "same.mp4", [x, x])
    stats = decode(clip, audio_path=tmp_path / "a.wav")
    assert any("analysed stream #0 (default-flagged" in n for n in stats.notes)
    one = write_media(tmp_path / "one.mp4", audio=tone(1.0))
    assert not decode(one, audio_path=tmp_path / "b.wav").notes  # one stream: nothing to say
