"""Face stage on a real photo (scikit-image's astronaut) and variants: detection, AU measures, images."""

from __future__ import annotations

import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.errors import UnsupportedFormatError
from emoreason.labels import CANONICAL
from emoreason.perception.face import action_units as au
from emoreason.perception.face.analyzer import analyze_face_image
from emoreason.perception.face.mesh import FaceMeshTracker

face_rgb, blank_rgb, two_faces_rgb, scaled = _fx.face_rgb, _fx.blank_rgb, _fx.two_faces_rgb, _fx.scaled


@pytest.fixture(scope="module")
def photo_mesh(face_rgb):
    with FaceMeshTracker(static=True) as tracker:
        face, n = tracker.main_face(face_rgb)
    assert face is not None and n == 1
    return face


def test_face_found_on_astronaut(face_rgb):
    out = analyze_face_image(face_rgb)
    assert out.usable and out.modality == "face"
    assert out.details["frames"] == 1 and out.details["frames_with_face"] == 1
    assert abs(sum(out.scores.values()) - 1.0) < 1e-6 and set(out.scores) == set(CANONICAL)
    assert max(out.scores, key=out.scores.get) == "happy"  # she smiles broadly
    table = out.series["aus"]
    assert list(table.columns) == list(au.AU_NAMES) and len(table) == 1
    assert np.isfinite(table.to_numpy()).all() and (table.to_numpy() >= 0).all()
    assert out.details["peak_frame_time"] == 0.0 and out.details["peak_aus"]
    assert out.details["au_baseline"].startswith("population")
    assert len(out.timeline) == 1 and out.timeline[0].start == 0.0


def test_blank_image_is_unusable_with_reason(blank_rgb):
    out = analyze_face_image(blank_rgb)
    assert not out.usable
    assert out.reason == "no face found in 1 frame"
    assert out.details["frames"] == 1 and out.details["frames_with_face"] == 0


def test_bad_frame_is_rejected(face_rgb):
    with pytest.raises(UnsupportedFormatError, match="RGB"):
        analyze_face_image(face_rgb[:, :, :2])
    with pytest.raises(UnsupportedFormatError, match="uint8"):
        analyze_face_image(face_rgb.astype(np.float32))
    with pytest.raises(UnsupportedFormatError, match="empty"):
        analyze_face_image(np.zeros((0, 10, 3), np.uint8))


def test_grey_and_rgba_photos_are_accepted(face_rgb):
    grey = np.ascontiguousarray(face_rgb.mean(axis=2).astype(np.uint8))
    rgba = np.dstack([face_rgb, np.full(face_rgb.shape[:2], 255, np.uint8)])
    assert analyze_face_image(grey).usable
    assert analyze_face_image(rgba).series["aus"].equals(analyze_face_image(face_rgb).series["aus"])


def test_raw_measures_finite_and_scale_invariant(face_rgb, photo_mesh):
    ref = au.raw_vector(photo_mesh.points)
    assert np.isfinite(ref).all()
    for factor in (0.6, 2.0):
        with FaceMeshTracker(static=True, max_side=2048) as tracker:
            face, _ = tracker.main_face(scaled(face_rgb, factor))
        assert face is not None
        assert face.size == pytest.approx(photo_mesh.size * factor, rel=0.1)
        np.testing.assert_allclose(au.raw_vector(face.points), ref, atol=0.04)


def test_raw_measures_invariant_to_mirror_and_crop(face_rgb, photo_mesh):
    ref = au.raw_vector(photo_mesh.points)
    with FaceMeshTracker(static=True) as tracker:
        mirrored, _ = tracker.main_face(np.ascontiguousarray(face_rgb[:, ::-1]))
        cropped, _ = tracker.main_face(np.ascontiguousarray(face_rgb[20:300, 120:360]))
    np.testing.assert_allclose(au.raw_vector(mirrored.points), ref, atol=0.04)
    np.testing.assert_allclose(au.raw_vector(cropped.points), ref, atol=0.04)


def test_face_frame_is_rotation_and_scale_invariant(photo_mesh):
    pts = photo_mesh.points.astype(np.float64)
    a = np.radians(25.0)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    moved = (pts @ rot.T) * 3.0 + np.array([40.0, -7.0, 2.0])
    np.testing.assert_allclose(au.face_frame(moved), au.face_frame(pts), atol=1e-9)
    np.testing.assert_allclose(au.raw_vector(moved), au.raw_vector(pts), atol=1e-9)


def test_intensities_against_baseline():
    base = au.AUBaseline(dict.fromkeys(au.AU_NAMES, 1.0), dict.fromkeys(au.AU_NAMES, 0.5))
    raw = dict.fromkeys(au.AU_NAMES, 1.0) | {"AU12": 2.0, "AU04": 0.0}
    out = au.intensities(raw, base)
    assert out["AU12"] == pytest.approx(2.0) and out["AU04"] == 0.0 and out["AU01"] == 0.0
    assert au.active_aus(out) == {"AU12"}


def test_main_face_is_the_largest(two_faces_rgb):
    with FaceMeshTracker(static=True) as tracker:
        faces = tracker.faces(two_faces_rgb)
        main, n = tracker.main_face(two_faces_rgb)
    assert n == len(faces) == 2
    assert main.box[0] < 512 and main.size == max(f.size for f in faces)


def test_small_face_in_a_wide_frame_is_found(face_rgb, photo_mesh):
    # 100 px face in a 1000 px wide frame: too small for the mesh's own detector, found by the full-range one
    canvas = np.full((562, 1000, 3), 200, dtype=np.uint8)
    canvas[:512, 300:812] = face_rgb
    with FaceMeshTracker(static=True) as tracker:
        face, n = tracker.main_face(canvas)
    assert face is not None and n == 1
    assert face.box[0] == pytest.approx(photo_mesh.box[0] + 300, abs=8)
    np.testing.assert_allclose(au.raw_vector(face.points), au.raw_vector(photo_mesh.points), atol=0.05)
