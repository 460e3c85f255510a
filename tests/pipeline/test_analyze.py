"""The whole chain on synthetic media: schema, timeline, evidence, determinism, and every bad input."""

import json

import av
import numpy as np
import pandas as pd
import pytest
from tests.conftest import requires_espeak
from tests.pipeline.result_dicts import without_timings

import emoreason
from emoreason.cli.main import main
from emoreason.errors import NoUsableModalityError, TooShortError, TranscriptError
from emoreason.io.demo_clip import speak
from emoreason.io.synth import tone, write_media
from emoreason.labels import CANONICAL


@pytest.fixture(scope="module")
def speech_result(speech_clip):
    return emoreason.analyze(speech_clip)


def test_result_schema_on_a_clip_with_face_voice_and_words(speech_result, speech_clip):
    r = speech_result
    assert r.label in CANONICAL and r.label == max(r.scores, key=r.scores.get)
    assert sum(r.scores.values()) == pytest.approx(1.0)
    assert -1 <= r.valence <= 1 and -1 <= r.arousal <= 1
    assert {m for m, s in r.modalities.items() if s.used} == {"face", "voice", "text"}
    assert sum(s.weight for s in r.modalities.values() if s.used) == pytest.approx(1.0)
    assert "believe" in r.transcript.lower()
    # the timeline covers the clip without gaps or overlaps, each segment at most 10 s
    assert r.segments[0].start == 0.0 and r.segments[-1].end == pytest.approx(r.duration)
    for a, b in zip(r.segments, r.segments[1:]):
        assert b.start == pytest.approx(a.end)
    assert all(s.end - s.start <= 10.0 + 1e-6 for s in r.segments)
    # evidence is timed and the explanation names only cues from it
    timed = [e for e in r.evidence if e.start is not None]
    assert {e.modality for e in timed} >= {"face", "voice"}
    assert all(0 <= e.start <= e.end <= r.duration + 0.5 for e in timed)
    assert r.label in r.explanation
    d = json.loads(r.to_json())
    assert d["schema_version"] == "1" and d["input"] == speech_clip
    df = r.to_dataframe()
    assert len(df) == len(r.segments) and set(CANONICAL) <= set(df.columns)



def test_same_input_same_output(speech_result, speech_clip):
    again = without_timings(emoreason.analyze(speech_clip).to_dict())
    assert again == without_timings(speech_result.to_dict())


def test_user_text_replaces_speech_to_text(speech_clip):
    r = emoreason.analyze(speech_clip, text="I am so angry with you.", modalities="text")
    assert r.transcript == "I am so angry with you." and set(r.modalities) == {"text"}
    assert r.modalities["text"].details["transcript_source"] == "user"


def test_label_set_conversion(speech_clip):
    r = emoreason.analyze(speech_clip, labels="mer2023", modalities="face")
    assert set(r.scores) == {"neutral", "angry", "happy", "sad", "worried", "surprise"}
    assert r.label_set == "mer2023"


def test_text_image_and_waveform_inputs(astronaut):
    assert emoreason.analyze(text="What a wonderful day, I love it!").label == "happy"
    img = emoreason.analyze(astronaut)
    assert img.modalities["face"].used and img.duration is None
    with pytest.raises(NoUsableModalityError, match="no speech"):
        emoreason.analyze(np.zeros(16000 * 2, np.float32), sample_rate=16000)


@requires_espeak
def test_waveform_input():
    r = emoreason.analyze(speak("I am really angry about this!"), sample_rate=16000)
    assert r.modalities["voice"].used and r.modalities["text"].used and "angry" in r.transcript.lower()


def test_video_without_audio_uses_the_face(tmp_path, astronaut):
    clip = write_media(tmp_path / "mute.mp4", [astronaut[:480, :480]] * 30, fps=10)
    r = emoreason.analyze(clip)
    assert r.modalities["face"].used
    assert not r.modalities["voice"].used and "no audio track" in r.modalities["voice"].reason


def test_no_face_in_any_frame_drops_the_face(tmp_path, speech_clip):
    with av.open(speech_clip) as c:
        audio = np.concatenate([f.to_ndarray().mean(axis=0) for f in c.decode(audio=0)]).astype(np.float32)
    blank = [np.full((240, 320, 3), 90, np.uint8)] * 40
    clip = write_media(tmp_path / "noface.mp4", blank, fps=5, audio=audio[: 16000 * 6], sample_rate=48000)
    r = emoreason.analyze(clip, modalities="face,voice")
    assert not r.modalities["face"].used and "no face" in r.modalities["face"].reason
    assert r.modalities["voice"].used


def test_silence_and_no_face_is_an_error(tmp_path):
    clip = write_media(tmp_path / "silent.mp4", [np.zeros((64, 64, 3), np.uint8)] * 20, fps=10,
                       audio=np.zeros(32000, np.float32))
    with pytest.raises(NoUsableModalityError, match="no face.*|.*no speech"):
        emoreason.analyze(clip)


def test_too_short(tmp_path):
    clip = write_media(tmp_path / "short.wav", audio=tone(0.2))
    with pytest.raises(TooShortError, match="too short"):
        emoreason.analyze(clip)


def test_unreadable_transcript(tmp_path, speech_clip):
    bad = tmp_path / "t.srt"
    bad.write_bytes(b"\xff\xfe\x00\xd8\x00\xd8 broken utf-16 \x00")
    with pytest.raises(TranscriptError):
        emoreason.analyze(speech_clip, transcript=bad, modalities="text")


@pytest.mark.parametrize("make,needle", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: (d / "empty.mp4").write_bytes(b"") and d / "empty.mp4" or d / "empty.mp4", "empty"),
    (lambda d: (d / "fake.mp4").write_text("hello\n" * 100) and d / "fake.mp4", "cannot be decoded"),
])
def test_cli_bad_input_one_line_nonzero_exit_and_no_output(tmp_path, capsys, make, needle):
    src = make(tmp_path)
    out = tmp_path / "result.json"
    code = main(["analyze", str(src), "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".result*"))


def test_cli_writes_json_jsonl_and_csv(tmp_path, speech_clip):
    outs = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "jsonl", "csv")}
    for out in outs.values():
        assert main(["analyze", speech_clip, "--modalities", "face", "-o", str(out), "--no-progress"]) == 0
    as_json = json.loads(outs["json"].read_text())
    assert as_json["modalities"]["face"]["used"] is True and as_json["label"] in CANONICAL
    lines = outs["jsonl"].read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["label"] == as_json["label"]
    table = pd.read_csv(outs["csv"], index_col=["file", "start", "end"])
    assert len(table) == len(as_json["segments"])
    assert list(table["label"]) == [s["label"] for s in as_json["segments"]]
