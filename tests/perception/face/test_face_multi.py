"""The per-person face stage (MultiFaceAnalyzer) and the single-face path it must leave unchanged."""

from __future__ import annotations

import cv2
import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest
from frame_refs import frames_kept

from emoreason.io.synth_people import make_people_video
from emoreason.perception.face.analyzer import FaceAnalyzer
from emoreason.perception.face.tracks import MultiFaceAnalyzer

face_rgb, small_face_rgb, blank_rgb = _fx.face_rgb, _fx.small_face_rgb, _fx.blank_rgb


@pytest.fixture(scope="module")
def one_face_frames(small_face_rgb, blank_rgb):
    blank = cv2.resize(blank_rgb, (256, 256))
    moved = np.roll(small_face_rgb, 6, axis=1)
    return [small_face_rgb] * 4 + [moved] * 3 + [blank] + [small_face_rgb, moved] * 2


def _outputs_equal(a, b):
    assert a.scores == b.scores
    assert a.details == b.details
    assert a.reliability == b.reliability
    assert a.evidence == b.evidence
    for name in ("aus", "boxes", "probabilities"):
        assert a.series[name].equals(b.series[name])


def test_add_frame_is_main_face_then_add_face(one_face_frames):
    whole = FaceAnalyzer()
    for i, frame in enumerate(one_face_frames):
        whole.add_frame(i * 0.2, frame)
    parts = FaceAnalyzer()
    for i, frame in enumerate(one_face_frames):
        parts.frames += 1
        face, n = parts.tracker.main_face(frame)
        if face is not None:
            parts.multi_face_frames += n > 1
            parts.add_face(i * 0.2, frame, face)
    _outputs_equal(whole.finish(), parts.finish())


def test_one_person_gets_the_single_face_analysis(one_face_frames):
    single = FaceAnalyzer()
    multi = MultiFaceAnalyzer()
    for i, frame in enumerate(one_face_frames):
        single.add_frame(i * 0.2, frame)
        multi.add_frame(i * 0.2, frame)
    tracks, outputs = multi.finish()
    assert [t.track_id for t in tracks] == [0] and set(outputs) == {0}
    _outputs_equal(single.finish(), outputs[0])


def test_two_people_each_analysed_with_their_own_baseline():
    video = make_people_video(seconds=3.0, fps=5, layout="side_by_side")
    multi = MultiFaceAnalyzer()
    for i, frame in enumerate(video.frames()):
        multi.add_frame(video.times[i], frame)
    tracks, outputs = multi.finish()
    assert len(tracks) == 2 and set(outputs) == {0, 1}
    for track in tracks:
        out = outputs[track.track_id]
        assert out.usable and out.details["frames_with_face"] == len(track.times) == video.n
        assert out.details["frames_several_faces"] == video.n
        peak_box = out.details["peak_face_box"]
        assert abs((peak_box[0] + peak_box[2]) / 2 - (track.boxes[0, 0] + track.boxes[0, 2]) / 2) < 0.05
    assert outputs[0].scores != outputs[1].scores


def test_keeps_numbers_not_frames(small_face_rgb):
    multi = MultiFaceAnalyzer()
    assert frames_kept(multi.add_frame, small_face_rgb, 12) == 0  # the multi-face path kept no frame
    tracks, _ = multi.finish()
    assert tracks[0].thumbnail.shape[0] == 96 or tracks[0].thumbnail.shape[1] == 96


def test_no_face_gives_no_tracks(blank_rgb):
    multi = MultiFaceAnalyzer()
    for i in range(4):
        multi.add_frame(i * 0.2, blank_rgb)
    assert multi.finish() == ([], {})
