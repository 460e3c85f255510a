"""Face tracks: the builder's logic on hand-made faces (IoU match, gaps, re-identification, duplicates,
short tracks), then on synthetic two-person videos through the real mesh and embedding."""

from __future__ import annotations

import numpy as np
import pytest

from emoreason.errors import ConfigError
from emoreason.io.synth_people import make_people_video
from emoreason.perception.face.mesh import FaceMesh
from emoreason.perception.face.tracks import FaceFinder, FaceTrackBuilder, mouth_opening

FRAME = np.zeros((200, 400, 3), np.uint8)


def _face(x0, y0, side=60.0, who=0.0) -> FaceMesh:
    pts = np.zeros((478, 3), np.float32)
    pts[:, 0], pts[:, 1] = x0 + side / 2, y0 + side / 2
    pts[0, 0] = who  # the fake embedder reads who this is from here
    return FaceMesh(points=pts, box=(x0, y0, x0 + side, y0 + side))


def _fake_embedder(calls):
    def embed(rgb, face):
        calls.append(face.box)
        v = np.zeros(128, np.float32)
        v[int(face.points[0, 0])] = 1.0  # people are 1.41 apart, a person 0 from themself
        return v
    return embed


def _run(frames, **kw):
    calls = []
    builder = FaceTrackBuilder(embedder=_fake_embedder(calls), cut_diff=1e9, **kw)
    keys = [builder.add(t, FRAME, faces) for t, faces in frames]
    return builder, builder.finish(), keys, calls


def test_two_moving_faces_keep_their_ids_and_embeddings_are_sparse():
    frames = [(i * 0.2, [_face(10 + 3 * i, 20, who=1), _face(300 - 3 * i, 30, who=2)]) for i in range(20)]
    builder, tracks, _, calls = _run(frames, embed_every_s=2.0)
    assert len(tracks) == 2
    left = next(t for t in tracks if t.boxes[0, 0] < 0.5)
    assert np.all(np.diff(left.boxes[:, 0]) > 0)  # it stays the face moving right
    assert len(left.times) == 20 and left.mouth_open.shape == (20,) and left.thumbnail.ndim == 3
    assert len(calls) == 4  # per track: its first face and one 2 s later, not 20
    assert [t.track_id for t in tracks] == [0, 1]


def test_a_face_back_after_a_long_gap_is_reidentified_and_a_new_face_in_its_place_is_not():
    frames = [(i * 0.2, [_face(20, 20, who=3)]) for i in range(5)]
    frames += [(5.0 + i * 0.2, [_face(250, 50, who=3)]) for i in range(5)]  # elsewhere, 4 s later
    frames += [(6.0 + i * 0.2, [_face(250, 50, who=4)]) for i in range(5)]  # someone else, same place
    builder, tracks, _, _ = _run(frames, max_gap_s=1.0, embed_every_s=0.0)
    assert [len(t.times) for t in tracks] == [10, 5]
    assert builder.reidentified == 1


def test_duplicates_dropped_and_short_tracks_removed():
    frames = [(i * 0.2, [_face(20, 20, side=100, who=1), _face(40, 40, side=50, who=1)]) for i in range(4)]
    frames += [(1.0, [_face(300, 100, who=2)])]  # seen once: spurious
    builder, tracks, keys, _ = _run(frames, min_observations=3)
    assert keys[0][1] is None and keys[0][0] is not None
    assert len(tracks) == 1 and len(tracks[0].times) == 4


def test_bad_settings_refused():
    with pytest.raises(ConfigError):
        FaceTrackBuilder(max_gap_s=0)
    with pytest.raises(ConfigError):
        FaceTrackBuilder(min_observations=0)


def test_mouth_opening_is_lip_gap_over_face_height():
    pts = np.zeros((478, 3), np.float32)
    pts[10], pts[152] = (0, 0, 0), (0, 100, 0)
    pts[13], pts[14] = (0, 70, 0), (0, 78, 0)
    assert mouth_opening(pts) == pytest.approx(0.08)


def _tracks_of(video, **kw):
    builder = FaceTrackBuilder(**kw)
    finder = FaceFinder(builder)
    for i, frame in enumerate(video.frames()):
        faces, cut = finder.find(video.times[i], frame)
        builder.add(video.times[i], frame, faces, cut=cut)
    finder.close()
    return builder, builder.finish()


def _person_of(track, truth) -> np.ndarray:
    """Per observation, the person whose true box is nearest the track's box centre."""
    idx = np.searchsorted(truth.times, track.times - 1e-9)
    centre = (track.boxes[:, :2] + track.boxes[:, 2:]) / 2
    true_centre = (truth.boxes[:, idx, :2] + truth.boxes[:, idx, 2:]) / 2  # (people, n, 2)
    d = np.linalg.norm(np.nan_to_num(true_centre - centre, nan=9.0), axis=2)
    return d.argmin(axis=0)


def test_two_faces_side_by_side_two_tracks_following_their_mouths():
    video = make_people_video(seconds=4.0, fps=5, layout="side_by_side")
    _, tracks = _tracks_of(video)
    assert len(tracks) == 2
    for track in tracks:
        person = _person_of(track, video.truth)
        assert len(set(person)) == 1 and len(track.times) == video.n
        drawn = video.truth.mouth[person[0]]
        assert np.corrcoef(track.mouth_open, drawn)[0, 1] > 0.8


def test_tracking_through_cuts_gives_each_person_one_id():
    video = make_people_video(seconds=6.0, fps=5, layout="alternating")
    assert len(video.truth.cuts) == 2
    builder, tracks = _tracks_of(video)
    assert builder.cuts == 2 and builder.reidentified == 1
    assert len(tracks) == 2
    for track in tracks:
        assert len(set(_person_of(track, video.truth))) == 1
    first = next(t for t in tracks if t.track_id == 0)
    assert first.times[0] == 0.0 and first.times[-1] > video.truth.cuts[-1]  # seen before and after


def test_a_swap_the_frame_difference_misses_is_caught_by_the_face_patch():
    video = make_people_video(seconds=6.0, fps=5, layout="alternating")
    builder, tracks = _tracks_of(video, cut_diff=1e9)  # no cut seen: only the patch check can split
    assert builder.cuts == 0 and len(tracks) == 2
    for track in tracks:
        assert len(set(_person_of(track, video.truth))) == 1


def test_a_small_face_beside_a_large_one_is_found():
    video = make_people_video(seconds=3.0, fps=5, layout="side_by_side", scale=0.6)
    builder = FaceTrackBuilder()
    finder = FaceFinder(builder)
    mesh_only = 0
    for i, frame in enumerate(video.frames()):
        faces, cut = finder.find(video.times[i], frame)
        mesh_only = max(mesh_only, len(finder.tracker.faces(frame)))
        builder.add(video.times[i], frame, faces, cut=cut)
    finder.close()
    tracks = builder.finish()
    assert mesh_only == 1  # the mesh alone sees one of the two faces
    assert len(tracks) == 2 and all(len(t.times) == video.n for t in tracks)


def test_no_face_no_tracks():
    builder = FaceTrackBuilder()
    for i in range(5):
        builder.add(i * 0.2, np.full((120, 160, 3), 100, np.uint8), [])
    assert builder.finish() == []
