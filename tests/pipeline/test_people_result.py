"""Per-person results from the per-person stages' outputs (emoreason.pipeline.people_result), with the
tracks and the diarisation faked: who is who, each person fused as the clip is, the labels relabelled."""

from __future__ import annotations

import base64
import io

import numpy as np
from people_fixtures import FakeDiarization, FakeTrack, FakeTurn, frame_times, talking_mouth
from PIL import Image

from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput, TimedScores
from emoreason.pipeline.people_result import build_people, thumbnail_jpeg
from emoreason.pipeline.people_stages import FacePeople, VoicePeople
from emoreason.pipeline.perception import Perception
from emoreason.pipeline.result import build_result, relabel
from emoreason.result import Result

A, B = [(0.0, 2.5), (5.0, 7.0), (10.5, 12.0)], [(2.8, 4.8), (7.3, 10.2), (12.4, 14.0)]


def out(modality: str, label: str, spans: list[tuple[float, float]]) -> ModalityOutput:
    scores = {lab: (0.7 if lab == label else 0.3 / (len(CANONICAL) - 1)) for lab in CANONICAL}
    timeline = [TimedScores(a, b, scores) for a, b in spans]
    return ModalityOutput(modality, True, scores=scores, timeline=timeline)


def two_people(silent_face: bool = False) -> Perception:
    t = frame_times(14.0)
    tracks = [FakeTrack(0, t, talking_mouth(t, B, seed=1)), FakeTrack(1, t, talking_mouth(t, A))]
    if silent_face:
        tracks.append(FakeTrack(2, t[t > 6], np.full((t > 6).sum(), 0.02)))
    turns = sorted([FakeTurn(a, b, 0) for a, b in A] + [FakeTurn(a, b, 1) for a, b in B],
                   key=lambda x: x.start)
    voices = VoicePeople(FakeDiarization(turns, 2),
                         voice={0: out("voice", "angry", A), 1: out("voice", "sad", B)},
                         text={0: out("text", "angry", A)}, words={0: [("stop", 0.5, 0.9)], 1: []},
                         transcripts={0: "stop", 1: ""})
    faces = FacePeople(tracks, {0: out("face", "sad", [(0.0, 14.0)]), 1: out("face", "angry", [(0.0, 14.0)]),
                                2: out("face", "neutral", [(6.0, 14.0)])}, t)
    p = Perception(input="two.mp4", kind="video", duration=14.0,
                   outputs={"face": out("face", "angry", [(0.0, 14.0)]),
                            "voice": out("voice", "angry", A + B), "text": out("text", "angry", A)},
                   transcript="stop", spoken=[("stop", 0.5, 0.9)])
    p.people_faces, p.people_voices = faces, voices
    return p


def test_two_people_each_with_their_face_voice_and_words():
    people = build_people(two_people(), build_result)
    assert [(x.person_id, x.face_track, x.voice) for x in people] == [("P1", 1, 0), ("P2", 0, 1)]
    p1, p2 = people
    assert p1.label == "angry" and p2.label == "sad"
    assert p1.transcript == "stop" and p1.segments[0].text == "stop"
    assert p1.speaking_seconds == 6.0 and p2.speaking_seconds == 6.5 and p1.on_screen_seconds == 14.0
    assert p1.turns[0] == (0.0, 2.5) and p1.association > 0.5
    assert p2.modalities["text"].used is False and "no words" in p2.modalities["text"].reason
    assert {m for m, s in p1.modalities.items() if s.used} == {"face", "voice", "text"}
    assert p1.explanation and "angry" in p1.explanation
    assert base64.b64decode(p1.thumbnail)[:2] == b"\xff\xd8"  # a JPEG


def test_the_pairing_made_where_the_paths_met_is_used_not_made_again(monkeypatch):
    from emoreason.pipeline import people_result
    from emoreason.pipeline.people import associate

    p = two_people()
    made = associate(p.people_faces.tracks, p.people_voices.diarization, p.people_faces.times)
    fresh = build_people(p, build_result)
    p.people_voices.association = made
    monkeypatch.setattr(people_result, "associate", None)  # a second pairing would fail here
    again = build_people(p, build_result)
    assert again == fresh
    made.pairs = {0: 0, 1: 1}  # the pairing given is the one followed
    assert [(x.face_track, x.voice) for x in build_people(p, build_result)] == [(0, 0), (1, 1)]


def test_silent_face_and_offscreen_voice_are_people_with_notes():
    p = two_people(silent_face=True)
    p.people_faces.tracks = p.people_faces.tracks[1:]  # the face of voice 1 is never seen
    general: list[str] = []
    people = build_people(p, build_result, notes=general)
    assert [(x.face_track, x.voice) for x in people] == [(1, 0), (None, 1), (2, None)]
    offscreen, silent = people[1], people[2]
    assert offscreen.label == "sad" and offscreen.thumbnail is None and offscreen.on_screen_seconds == 0
    assert "not seen" in offscreen.modalities["face"].reason
    assert silent.label == "neutral" and silent.speaking_seconds == 0.0
    assert "never heard speaking" in silent.modalities["voice"].reason
    assert people[0].notes == [] and "voice 1 has no face" in offscreen.notes[0]
    assert "face track 2 is paired with no voice" in silent.notes[0]
    assert general == []  # every note here is about one person


def test_one_face_one_voice_is_the_clip():
    p = two_people()
    p.people_faces.tracks = p.people_faces.tracks[1:]
    p.people_voices.diarization = FakeDiarization([FakeTurn(0.0, 14.0, 0)], 1)
    (only,) = build_people(p, build_result)
    clip = build_result(p)
    assert (only.face_track, only.voice) == (1, 0)
    assert only.label == clip.label and only.scores == clip.scores and only.explanation == clip.explanation


def test_person_without_a_usable_modality_has_no_label_and_a_note():
    p = two_people()
    p.people_voices.voice[1] = ModalityOutput.unusable("voice", "too short")
    p.people_faces.outputs[0] = ModalityOutput.unusable("face", "no face in 3 frames")
    p2 = build_people(p, build_result)[1]
    assert p2.label is None and p2.scores == {} and "no emotion for this person" in p2.notes[0]


def test_relabel_reaches_people():
    p = two_people()
    r = build_result(p)
    r.people = build_people(p, build_result)
    relabel(r, "mer2023")
    back = Result.from_dict(r.to_dict())
    mer = {"neutral", "angry", "happy", "sad", "worried", "surprise"}
    assert set(back.scores) == mer and all(set(x.scores) == mer for x in back.people)
    assert back.people[1].label == "sad" and set(back.people[1].segments[0].scores) == mer


def test_thumbnail_is_small():
    jpeg = thumbnail_jpeg(np.zeros((300, 200, 3), np.uint8))
    assert max(Image.open(io.BytesIO(base64.b64decode(jpeg))).size) == 96
    assert thumbnail_jpeg(None) is None


def test_outputs_by_person_are_handed_back():
    outputs: dict = {}
    people = build_people(two_people(silent_face=True), build_result, outputs)
    assert list(outputs) == [p.person_id for p in people] == ["P1", "P2", "P3"]
    assert outputs["P2"]["voice"].scores["sad"] == 0.7 and set(outputs["P3"]) == {"face", "voice", "text"}
