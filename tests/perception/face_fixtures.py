"""Synthetic inputs for the face tests, built from scikit-image's astronaut photo (a real face)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def face_rgb() -> np.ndarray:
    """512x512 RGB photo with one frontal, smiling face (about 100 px wide)."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def small_face_rgb(face_rgb) -> np.ndarray:
    """The astronaut's head and shoulders, 256x256 (fast for many-frame tests)."""
    import cv2

    return cv2.resize(np.ascontiguousarray(face_rgb[0:320, 80:400]), (256, 256), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def blank_rgb() -> np.ndarray:
    return np.full((240, 320, 3), 127, dtype=np.uint8)


@pytest.fixture(scope="session")
def two_faces_rgb(face_rgb) -> np.ndarray:
    """A canvas with the astronaut at full size (left) and at 80 % size (right)."""
    import cv2

    canvas = np.full((512, 940, 3), 200, dtype=np.uint8)
    canvas[:, :512] = face_rgb
    small = cv2.resize(face_rgb, (410, 410), interpolation=cv2.INTER_AREA)
    canvas[40:450, 525:935] = small
    return canvas


@pytest.fixture(scope="session")
def astronaut_points(face_rgb) -> np.ndarray:
    """The astronaut's 478-point mesh (pixels of ``face_rgb``)."""
    from emoreason.perception.face.mesh import FaceMeshTracker

    with FaceMeshTracker(static=True) as tracker:
        face, _ = tracker.main_face(face_rgb)
    assert face is not None
    return face.points


def scaled(rgb: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=interpolation)
