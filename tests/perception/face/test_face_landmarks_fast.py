"""mediapipe's landmark lists read from their serialised bytes give the numbers read field by field."""

from __future__ import annotations

import numpy as np
import pytest

landmark_pb2 = pytest.importorskip("mediapipe.framework.formats.landmark_pb2")

from emoreason.perception.face.landmarks import landmark_xyz  # noqa: E402
from emoreason.perception.face.mesh import _to_mesh  # noqa: E402


def landmark_list(xyz, visibility=None):
    lms = landmark_pb2.NormalizedLandmarkList()
    for i, (x, y, z) in enumerate(xyz):
        p = lms.landmark.add(x=x, y=y, z=z)
        if visibility is not None and i == visibility:
            p.visibility = 0.5
    return lms


def field_by_field(lms, x_off, y_off, w, h):
    return np.array([(x_off + p.x * w, y_off + p.y * h, p.z * w) for p in lms.landmark], dtype=np.float32)


@pytest.mark.parametrize("visibility", [None, 7])  # the one-pass read, and a list it must not misread
def test_serialised_read_equals_field_by_field(visibility):
    rng = np.random.default_rng(3)
    xyz = rng.normal(0.5, 0.3, size=(478, 3))
    xyz[5] = 0.0  # zeros are serialised too
    lms = landmark_list(xyz, visibility)
    got = landmark_xyz(lms)
    np.testing.assert_array_equal(got, xyz.astype(np.float32).astype(np.float64))
    for args in ((0.0, 0.0, 640, 360), (13.0, 7.5, 1280.0, 720.0)):
        np.testing.assert_array_equal(_to_mesh(lms, *args).points, field_by_field(lms, *args))
