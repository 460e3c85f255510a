"""The crops read a grey frame converted region by region (``GrayFrame``): the same pixels as converting the
whole frame, for faces inside the frame, at its edges, rotated, and for crops sharing one conversion."""

from __future__ import annotations

import cv2
import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.perception.face.crops import GrayFrame, face_crop_gray, face_square_gray, stretch_flat
from emoreason.perception.face.expression_net import net_crop

face_rgb, astronaut_points = _fx.face_rgb, _fx.astronaut_points


def crop_from_whole_frame(rgb, points, margin=0.10, size=64, align=False):
    """face_crop_gray as it was written before GrayFrame: the whole frame converted, then one warp."""
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    eye_r, eye_l = (pts[33] + pts[133]) / 2, (pts[263] + pts[362]) / 2
    angle = float(np.degrees(np.arctan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0]))) if align else 0.0
    center = (pts.min(0) + pts.max(0)) / 2
    rot = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), angle, 1.0)
    rotated = pts @ rot[:, :2].T + rot[:, 2]
    lo, hi = rotated.min(0), rotated.max(0)
    side = float(max(hi - lo)) * (1.0 + 2.0 * margin)
    c = (lo + hi) / 2
    s = size / side
    m = rot * s
    m[:, 2] += -np.array([c[0] - side / 2, c[1] - side / 2]) * s
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    crop = cv2.warpAffine(gray, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return stretch_flat(crop)


def moved(points, dx, dy, k=1.0):
    out = np.array(points, dtype=np.float32)
    out[:, :2] = out[:, :2] * k + np.array([dx, dy], np.float32)
    return out


@pytest.mark.parametrize("dx, dy, k", [(0, 0, 1.0), (-240, 0, 1.0), (300, 260, 1.0), (-200, -230, 0.5),
                                       (0.37, -0.61, 1.3), (600, 0, 0.4), (-900, 0, 1.0)])
@pytest.mark.parametrize("align", [False, True])
def test_crops_equal_the_whole_frame_conversion(face_rgb, astronaut_points, dx, dy, k, align):
    pts = moved(astronaut_points, dx, dy, k)  # inside, over an edge, over a corner, partly or wholly outside
    for size in (64, 48, 17):
        got = face_crop_gray(face_rgb, pts, size=size, align=align)
        np.testing.assert_array_equal(got, crop_from_whole_frame(face_rgb, pts, size=size, align=align))


def test_random_frames_and_shared_conversion():
    rng = np.random.default_rng(0)
    for _ in range(20):
        h, w = rng.integers(40, 300, size=2)
        rgb = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        pts = np.zeros((478, 3), np.float32)
        pts[:, 0] = rng.uniform(-0.3 * w, 1.3 * w, 478)
        pts[:, 1] = rng.uniform(-0.3 * h, 1.3 * h, 478)
        pts[:, :2] = pts[:, :2] * rng.uniform(0.05, 1.0) + rng.uniform(-0.5, 0.5, 2) * [w, h]
        gray = GrayFrame(rgb)
        # three crops through one GrayFrame: each as if the whole frame had been converted for it
        np.testing.assert_array_equal(face_crop_gray(gray, pts), crop_from_whole_frame(rgb, pts))
        np.testing.assert_array_equal(net_crop(gray, pts), crop_from_whole_frame(rgb, pts, size=48))
        try:
            square = face_square_gray(gray, pts)
        except ValueError:  # the square lies outside the frame: so does it without GrayFrame
            with pytest.raises(ValueError):
                face_square_gray(rgb, pts)
            continue
        np.testing.assert_array_equal(square, face_square_gray(rgb, pts))


def test_covering_is_exact_where_asked_and_grows():
    rgb = np.random.default_rng(1).integers(0, 256, size=(50, 70, 3), dtype=np.uint8)
    whole = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    frame = GrayFrame(rgb)
    g = frame.covering(10, 5, 20, 15)
    np.testing.assert_array_equal(g[5:15, 10:20], whole[5:15, 10:20])
    assert not g[30:, 40:].any()  # not converted
    g = frame.covering(30, 20, 200, 200)  # clipped to the frame; the first rectangle stays exact
    np.testing.assert_array_equal(g[5:50, 10:70], whole[5:50, 10:70])
