"""dlib's face embedding on our mesh boxes: the same person closer than two people, small faces refused."""

from __future__ import annotations

import cv2
import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.io.synth_people import default_faces
from emoreason.perception.face.identity import (
    SAME_PERSON_DISTANCE,
    distance,
    dlib_box,
    face_embedding,
)
from emoreason.perception.face.mesh import FaceMesh, FaceMeshTracker

face_rgb = _fx.face_rgb


def _embed(rgb):
    with FaceMeshTracker(static=True) as tracker:
        face, _ = tracker.main_face(rgb)
    assert face is not None
    return face_embedding(rgb, face)


@pytest.fixture(scope="module")
def embeddings(face_rgb):
    other = default_faces()[1]  # a different real person (LFW, in scikit-image)
    # the astronaut again: mirrored, darker, at 70 % size in another place of a larger frame
    view = cv2.resize(face_rgb[:, ::-1], (358, 358), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 60, np.uint8)
    canvas[100:458, 250:608] = (view * 0.8).astype(np.uint8)
    return _embed(face_rgb), _embed(canvas), _embed(other)


def test_same_person_closer_than_two_people(embeddings):
    a, a_again, b = embeddings
    assert a.shape == (128,) and a.dtype == np.float32
    assert distance(a, a_again) < SAME_PERSON_DISTANCE < distance(a, b)
    assert distance(a, a_again) < 0.5 * distance(a, b)


def test_small_face_gets_no_embedding(face_rgb):
    tiny = FaceMesh(points=np.zeros((478, 3), np.float32), box=(10.0, 10.0, 30.0, 30.0))
    assert face_embedding(face_rgb, tiny) is None


def test_dlib_box_stays_in_the_frame():
    face = FaceMesh(points=np.zeros((478, 3), np.float32), box=(-20.0, -10.0, 90.0, 130.0))
    left, top, right, bottom = dlib_box(face, 80, 100)
    assert 0 <= left < right <= 79 and 0 <= top < bottom <= 99
