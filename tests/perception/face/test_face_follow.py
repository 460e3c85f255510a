"""Following a small face in videos (FaceMeshTracker(follow_small=True)): the whole frame is searched on
every SEARCH_EVERY-th frame only, the followed face's mesh lies within a few % of the face's width of the
searched one, the face stage's output barely moves, and a face that jumps or vanishes is searched for at
once."""

from __future__ import annotations

import cv2
import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.perception.face.analyzer import FaceAnalyzer
from emoreason.perception.face.mesh import SEARCH_EVERY, FaceMeshTracker

face_rgb = _fx.face_rgb


def small_face_frames(face_rgb, n=12, step=8, x0=200):
    """A 960x540 video frame with the astronaut at 384 px (her face ~75 px, under the mesh detector's
    reach), moving ``step`` px to the right each frame."""
    photo = cv2.resize(face_rgb, (384, 384), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(n):
        canvas = np.full((540, 960, 3), 40, np.uint8)
        x = x0 + i * step
        canvas[80:464, x:x + 384] = photo
        frames.append(canvas)
    return frames


def counted(tracker):
    calls = [0]
    inner = tracker._search

    def search(rgb):
        calls[0] += 1
        return inner(rgb)

    tracker._search = search
    return calls


def test_follows_a_small_face_and_searches_every_few_frames(face_rgb):
    frames = small_face_frames(face_rgb)
    with FaceMeshTracker(follow_small=True) as follow, FaceMeshTracker() as search:
        calls = counted(follow)
        for frame in frames:
            a, n_a = follow.main_face(frame)
            b, n_b = search.main_face(frame)
            assert a is not None and b is not None and n_a == n_b == 1
            side = b.box[2] - b.box[0]
            # the same face, its points within a few % of its width of the searched mesh's
            assert np.abs(a.points[:, :2] - b.points[:, :2]).mean() < 0.03 * side
        assert calls[0] == -(-len(frames) // SEARCH_EVERY)  # frames 0 and 10


def test_face_stage_output_barely_moves(face_rgb):
    frames = small_face_frames(face_rgb, n=10)
    outs = []
    for follow in (True, False):
        an = FaceAnalyzer(fps=5.0, follow_small=follow)
        for i, frame in enumerate(frames):
            an.add_frame(i * 0.2, frame)
        outs.append(an.finish())
    on, off = outs
    assert max(on.scores, key=on.scores.get) == max(off.scores, key=off.scores.get)
    assert max(abs(on.scores[k] - off.scores[k]) for k in on.scores) < 0.05
    assert on.details["frames_with_face"] == off.details["frames_with_face"] == len(frames)
    assert (on.details["frames_followed"], off.details["frames_followed"]) == (len(frames) - 1, 0)
    aus_on, aus_off = on.series["aus"].to_numpy(), off.series["aus"].to_numpy()
    assert np.abs(aus_on - aus_off).max() < 1.0  # AU intensities in neutral-face SDs


def test_a_jump_or_a_vanished_face_is_searched_for_at_once(face_rgb):
    frames = small_face_frames(face_rgb, n=3)
    far = small_face_frames(face_rgb, n=1, x0=560)[0]  # the face now 360 px to the right
    blank = np.full_like(far, 40)
    with FaceMeshTracker(follow_small=True) as tracker:
        calls = counted(tracker)
        for frame in frames:
            tracker.main_face(frame)
        assert calls[0] == 1
        face, _ = tracker.main_face(far)
        assert calls[0] == 2 and face is not None and face.box[0] > 560
        assert tracker.main_face(blank) == (None, 0) and calls[0] == 3
        assert tracker.main_face(blank) == (None, 0) and calls[0] == 4


@pytest.mark.parametrize("static", [True, False])
def test_photos_and_large_faces_are_not_followed(face_rgb, static):
    big = cv2.resize(face_rgb, (1024, 1024))[100:640, 30:990]  # a face the mesh's own detector sees
    with FaceMeshTracker(static=static, follow_small=True) as tracker:
        calls = counted(tracker)
        for _ in range(3):
            assert tracker.main_face(big)[0] is not None
        assert calls[0] == 3
    assert not FaceAnalyzer(static=True).tracker.follow_small
    assert not FaceAnalyzer(static=True, follow_small=True).tracker.follow_small  # photos: nothing to follow
    assert FaceAnalyzer().tracker.follow_small
    assert not FaceAnalyzer(follow_small=False).tracker.follow_small
