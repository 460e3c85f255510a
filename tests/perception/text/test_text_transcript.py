"""Reading transcripts: .txt/.srt/.vtt, encodings, malformed files, sidecar discovery."""

from __future__ import annotations

import pytest
import text_fixtures as fx  # noqa: E402  (tests/perception is on pytest's pythonpath)

from emoreason.errors import EmoreasonError, TranscriptError
from emoreason.perception.text.transcript import find_sidecar_transcript, read_transcript


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32"])
def test_srt_parses_times_text_and_tags_in_every_supported_encoding(tmp_path, encoding):
    t = read_transcript(fx.write(tmp_path, "a.srt", fx.SRT, encoding))
    assert [(s.start, s.end) for s in t.segments] == [(0.5, 2.0), (2.5, 4.25)]
    assert t.segments[1].text == "This is the best day of my life."
    assert t.text == "I can't believe it! This is the best day of my life."
    assert t.timed and t.source.endswith("a.srt") and t.confidence == 1.0


def test_srt_with_windows_line_endings_and_no_index_lines(tmp_path):
    text = "00:00:01,000 --> 00:00:02,000\r\nhello there\r\n\r\n00:00:03,000 --> 00:00:04,000\r\nbye\r\n"
    t = read_transcript(fx.write(tmp_path, "b.srt", text))
    assert [s.text for s in t.segments] == ["hello there", "bye"]
    assert t.segments[1].start == 3.0


def test_vtt_skips_notes_ids_settings_tags_and_unescapes(tmp_path):
    t = read_transcript(fx.write(tmp_path, "a.vtt", fx.VTT))
    assert [(s.start, s.end) for s in t.segments] == [(0.5, 2.0), (2.5, 4.25)]
    assert [s.text for s in t.segments] == ["I can't believe it!", "Fish & chips again."]


def test_txt_lines_are_utterances_spread_over_the_duration(tmp_path):
    path = fx.write(tmp_path, "a.txt", "Hello.\n\n  How are you today?  \n")
    untimed = read_transcript(path)
    assert [s.text for s in untimed.segments] == ["Hello.", "How are you today?"]
    assert not untimed.timed and all(s.start == s.end == 0.0 for s in untimed.segments)
    spread = read_transcript(path, duration=12.0)
    assert spread.segments[0].start == 0.0 and spread.segments[-1].end == pytest.approx(12.0)
    assert spread.segments[0].end == pytest.approx(12.0 * 6 / 24)  # in proportion to length


@pytest.mark.parametrize("name, content, message", [
    ("latin1.srt", "1\n00:00:01,000 --> 00:00:02,000\nna\xefve caf\xe9\n".encode("latin-1"),
     "not valid utf-8"),
    ("nobom16.txt", "hello".encode("utf-16-le"), "NUL"),
    ("empty.txt", b"  \n\n", "empty"),
    ("badtime.srt", b"1\n00:00:01 -> 00:00:02\nhello\n", "line 2: expected a time line"),
    ("backwards.srt", b"1\n00:00:03,000 --> 00:00:02,000\nhello\n", "ends"),
    ("nohead.vtt", b"00:01.000 --> 00:02.000\nhello\n", "must start with 'WEBVTT'"),
    ("badtime.vtt", b"WEBVTT\n\nNOTE x\n\ncue-1\n00:01 -> 00:02\nhello\n",
     "line 6: expected a cue time line"),
    ("idonly.vtt", b"WEBVTT\n\ncue-1\n", "line 4: expected a cue time line"),
    ("notext.srt", b"1\n00:00:01,000 --> 00:00:02,000\n<i></i>\n", "no cues with text"),
    ("words.doc", b"hello", "unknown type"),
])
def test_bad_transcripts_raise_one_line_transcript_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TranscriptError, match=message) as info:
        read_transcript(path)
    assert isinstance(info.value, EmoreasonError) and "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_missing_transcript_is_a_transcript_error(tmp_path):
    with pytest.raises(TranscriptError, match="not found"):
        read_transcript(tmp_path / "nope.srt")


def test_sidecar_prefers_srt_then_vtt_then_txt(tmp_path):
    media = tmp_path / "clip.mp4"
    media.write_bytes(b"x")
    assert find_sidecar_transcript(media) is None
    fx.write(tmp_path, "clip.txt", "hi")
    assert find_sidecar_transcript(media) == tmp_path / "clip.txt"
    fx.write(tmp_path, "clip.vtt", fx.VTT)
    assert find_sidecar_transcript(media) == tmp_path / "clip.vtt"
    fx.write(tmp_path, "clip.srt", fx.SRT)
    assert find_sidecar_transcript(media) == tmp_path / "clip.srt"
    assert find_sidecar_transcript(tmp_path / "clip.txt") == tmp_path / "clip.srt"
