"""The face crops: fer's square, facex's square and skimage-equivalent resize, the flat-crop stretch."""

from __future__ import annotations

import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest
from skimage.transform import resize

from emoreason.perception.face.crops import (
    FLAT_CROP_RANGE,
    face_crop_gray,
    face_square_gray,
    resize_like_skimage,
    stretch_flat,
)

face_rgb, astronaut_points = _fx.face_rgb, _fx.astronaut_points


@pytest.mark.parametrize("side", [1, 3, 57, 120, 200, 263, 480])
def test_resize_reproduces_skimage(side):
    rng = np.random.default_rng(side)
    gray = rng.integers(0, 256, size=(side, side), dtype=np.uint8)
    gray[side // 3:, : side // 2] //= 3  # some structure, not only noise
    want = resize(gray, (200, 200, 3))  # what facex's own pipeline feeds its model
    got = resize_like_skimage(gray, 200)
    assert got.dtype == np.float32 and got.shape == (200, 200)
    np.testing.assert_allclose(got, want[..., 0], atol=1e-5)
    np.testing.assert_allclose(want[..., 0], want[..., 2])  # grey is repeated on the 3 channels


def test_face_square_is_square_and_padded_at_the_edge():
    rgb = np.zeros((100, 80, 3), np.uint8)
    rgb[:, :40] = 200
    pts = np.array([[0.0, 10.0, 0.0], [30.0, 50.0, 0.0]])  # box 30 x 40 touching the left edge
    sq = face_square_gray(rgb, pts, margin=0.25, shift=0.0)
    assert sq.shape == (60, 60)
    assert sq[:, 0].min() == sq[:, 0].max()  # repeated edge column, not black
    assert face_square_gray(rgb, pts, margin=0.0).shape == (40, 40)


def test_flat_crops_are_stretched_and_ordinary_ones_left_alone(face_rgb, astronaut_points):
    normal = face_crop_gray(face_rgb, astronaut_points)
    assert np.array_equal(normal, face_crop_gray(face_rgb, astronaut_points, flat_range=0))  # untouched
    dark = (face_rgb.astype(np.float64) * 0.25).astype(np.uint8)  # two stops under-exposed
    raw = face_crop_gray(dark, astronaut_points, flat_range=0)
    lo, hi = np.percentile(raw, [1, 99])
    assert hi - lo < FLAT_CROP_RANGE
    out = face_crop_gray(dark, astronaut_points)
    lo, hi = np.percentile(out, [1, 99])
    assert lo <= 2 and hi >= 253  # stretched onto the full range
    assert np.corrcoef(out.ravel(), raw.ravel())[0, 1] > 0.99  # by a monotone linear map
    square = face_square_gray(dark, astronaut_points)
    assert np.ptp(np.percentile(square, [1, 99])) >= 250
    flat = np.full((10, 10), 77, np.uint8)
    assert np.array_equal(stretch_flat(flat), flat)  # nothing to stretch
