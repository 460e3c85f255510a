"""Small and pre-cropped faces: analysed down to 24 px, refused below with the minimum named, the enlarged
retry for small images, low-confidence AUs and gaze without evidence, and the pose/gaze series."""

from __future__ import annotations

import cv2
import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

import emoreason
from emoreason.errors import EmoreasonError
from emoreason.perception.face.analyzer import FaceAnalyzer, analyze_face_image
from emoreason.perception.face.mesh import FaceMeshTracker
from emoreason.perception.face.small_faces import MIN_FACE_PX, RELIABLE_FACE_PX, upscaled_face

face_rgb, small_face_rgb, astronaut_points = _fx.face_rgb, _fx.small_face_rgb, _fx.astronaut_points


def _tight_crop(rgb: np.ndarray, points: np.ndarray, side_px: int, margin: float = 0.0) -> np.ndarray:
    """A FER-style square crop of the face (the mesh's box plus ``margin``), resized to ``side_px``."""
    lo, hi = points[:, :2].min(0), points[:, :2].max(0)
    side = float(max(hi - lo)) * (1 + 2 * margin)
    cx, cy = (lo + hi) / 2
    crop = rgb[int(cy - side / 2):int(cy + side / 2), int(cx - side / 2):int(cx + side / 2)]
    return cv2.resize(np.ascontiguousarray(crop), (side_px, side_px), interpolation=cv2.INTER_AREA)


def test_a_48px_face_crop_is_analysed_with_low_confidence_aus(face_rgb, astronaut_points):
    out = analyze_face_image(_tight_crop(face_rgb, astronaut_points, 48))
    assert out.usable and max(out.scores, key=out.scores.get) == "happy"
    assert MIN_FACE_PX <= out.details["face_px"] < RELIABLE_FACE_PX
    cues = out.details["cues"]
    assert cues["action_units"]["confidence"] == "low" and not cues["action_units"]["in_evidence"]
    assert "px" in cues["action_units"]["why"] and cues["gaze"]["confidence"] == "low"
    assert cues["head_pose"]["computed"] and cues["expression"]["computed"]
    assert not [e for e in out.evidence if e.name.startswith("AU") or e.name == "gaze_averted"]
    assert set(out.series) >= {"aus", "head_pose", "gaze"}


def test_the_same_face_at_96px_gives_au_evidence(face_rgb, astronaut_points):
    out = analyze_face_image(_tight_crop(face_rgb, astronaut_points, 96))
    assert out.usable and out.details["face_px"] >= RELIABLE_FACE_PX
    au_cues = out.details["cues"]["action_units"]
    assert au_cues == {"computed": True, "confidence": "normal", "in_evidence": True}
    assert "AU12" in [e.name for e in out.evidence]


def test_analyze_explains_a_small_face_without_au_cues(face_rgb, astronaut_points):
    r = emoreason.analyze(_tight_crop(face_rgb, astronaut_points, 48), modalities=["face"])
    assert r.label == "happy" and "AU" not in r.explanation
    assert r.modalities["face"].details["cues"]["action_units"]["confidence"] == "low"


def test_a_face_below_the_minimum_is_refused_naming_it(face_rgb, astronaut_points):
    tiny = _tight_crop(face_rgb, astronaut_points, 22)
    out = analyze_face_image(tiny)
    assert not out.usable and f"smaller than {MIN_FACE_PX} px" in out.reason
    with pytest.raises(EmoreasonError, match=f"{MIN_FACE_PX} px"):
        emoreason.analyze(tiny, modalities=["face"])


def test_upscaled_face_maps_the_mesh_back(face_rgb, astronaut_points):
    crop = _tight_crop(face_rgb, astronaut_points, 64, margin=0.05)
    with FaceMeshTracker(static=True) as tracker:
        direct, _ = tracker.main_face(crop)
        enlarged = upscaled_face(tracker, crop)
    assert direct is not None and enlarged is not None
    np.testing.assert_allclose(enlarged.box, direct.box, atol=3.0)
    assert enlarged.points[:, :2].min() > -3 and enlarged.points[:, :2].max() < 67


def test_a_small_image_the_tracker_misses_is_retried_enlarged(face_rgb, astronaut_points):
    analyzer = FaceAnalyzer(fps=5.0)  # video mode: the retry uses its own static tracker
    analyzer.tracker.main_face = lambda rgb: (None, 0)  # the first look finds nothing
    analyzer.add_frame(0.0, _tight_crop(face_rgb, astronaut_points, 64, margin=0.05))
    out = analyzer.finish()
    assert out.usable and out.details["frames_upscaled"] == 1


def test_video_series_hold_pose_and_gaze_per_frame(small_face_rgb):
    analyzer = FaceAnalyzer(fps=5.0)
    for i in range(4):
        analyzer.add_frame(i / 5, small_face_rgb if i % 2 == 0 else small_face_rgb[:, ::-1].copy())
    out = analyzer.finish()
    pose, gaze = out.series["head_pose"], out.series["gaze"]
    assert list(pose.columns) == ["yaw", "pitch", "roll"] and pose.index.equals(out.series["aus"].index)
    assert list(gaze.columns) == ["eye_yaw", "eye_pitch", "gaze_yaw", "gaze_pitch", "gaze_off_camera"]
    assert np.isfinite(pose.to_numpy()).all()
    yaw = pose["yaw"].to_numpy()
    assert yaw[0] == pytest.approx(-yaw[1], abs=6.0)  # mirrored frames turn the other way (tracking: noisier)
    assert set(out.details["head_pose_median"]) >= {"yaw", "pitch", "roll", "gaze_off_camera"}
