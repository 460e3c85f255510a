"""Who is speaking on the tracks helper's synthetic two-person videos (real face tracks, mouths opened on
a schedule, the diarisation faked from the schedule), and ``people=True`` on a one-person clip: one
person whose result is the clip's, the clip's result as without people."""

from __future__ import annotations

import numpy as np
import pytest
from people_fixtures import FakeDiarization, FakeTurn
from tests.pipeline.result_dicts import without_timings

import emoreason
from emoreason.io.synth_people import make_people_video
from emoreason.perception.face.tracks import MultiFaceAnalyzer
from emoreason.pipeline.people import associate

TURNS = [(0.25, 1.75, 0), (2.25, 3.75, 1), (4.25, 5.75, 0), (6.25, 7.75, 1)]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _true_person(track, video) -> int:
    """The drawn person whose face box the track's boxes overlap on most frames."""
    votes = np.zeros(len(video.faces))
    for t, box in zip(track.times, track.boxes):
        i = int(np.argmin(np.abs(video.times - t)))
        for k in range(len(video.faces)):
            truth = video.truth.boxes[k, i]
            if not np.isnan(truth).any() and _iou(box, truth) > 0.3:
                votes[k] += 1
    return int(votes.argmax())


@pytest.mark.parametrize("layout", ["side_by_side", "alternating"])
def test_each_voice_goes_to_the_face_whose_mouth_moves_with_it(layout):
    video = make_people_video(turns=TURNS, seconds=8.0, fps=5, layout=layout)
    faces = MultiFaceAnalyzer()
    for t, frame in zip(video.times, video.frames()):
        faces.add_frame(t, frame)
    tracks, _ = faces.finish()
    assert len(tracks) == 2  # alternating: each person re-identified after every cut
    diarization = FakeDiarization([FakeTurn(a, b, s) for a, b, s in TURNS], 2)
    a = associate(tracks, diarization, video.times)
    truth = {t.track_id: _true_person(t, video) for t in tracks}
    assert sorted(truth.values()) == [0, 1]
    assert a.pairs == truth, (a.scores, a.notes)
    assert a.offscreen == [] and a.silent == []


@pytest.fixture(scope="module")
def one_person(speech_clip):
    return emoreason.analyze(speech_clip, people=True), emoreason.analyze(speech_clip)



def test_one_person_clip_gives_one_person_with_the_clips_result(one_person):
    with_people, without = one_person
    (person,) = with_people.people
    assert (person.person_id, person.face_track, person.voice) == ("P1", 0, 0)
    assert person.label == with_people.label and person.scores == with_people.scores
    assert person.thumbnail and person.speaking_seconds > 2 and person.on_screen_seconds > 5
    d = with_people.to_dict()
    d.pop("people")
    assert "notes" in d["provenance"].pop("people")  # how the people were found: the one addition
    assert without_timings(d) == without_timings(without.to_dict())  # the clip as without people


def test_an_image_s_people_are_its_faces(astronaut):
    one = emoreason.analyze(astronaut, people=True, modalities="face")
    (person,) = one.people
    assert person.face_track == 0 and person.voice is None and person.label == one.label
    two_faces = make_people_video(turns=[], seconds=0.2, fps=5).frame(0)
    two = emoreason.analyze(two_faces, people=True, modalities="face")
    assert [(p.person_id, p.voice) for p in two.people] == [("P1", None), ("P2", None)]
    assert {p.face_track for p in two.people} == {0, 1} and all(p.thumbnail for p in two.people)
    assert all(p.modalities["face"].used for p in two.people)


@pytest.mark.slow  # ~30 s on a shared 2-core machine; fast siblings: the tests above with a faked diarisation
def test_two_person_video_with_real_voices(tmp_path):
    import shutil
    import sys
    from pathlib import Path

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from people import make_demo

    r = emoreason.analyze(str(make_demo(tmp_path / "two.mp4")), people=True, modalities="face,voice")
    assert [(p.face_track is not None, p.voice) for p in r.people] == [(True, 0), (True, 1)]
    left = [p.modalities["face"].details["peak_face_box"][0] < 0.5 for p in r.people]
    assert left == [True, False]  # the first voice (the left face's turns) is the left face
    assert all(p.association > 0.3 for p in r.people)
