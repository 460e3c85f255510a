"""Head pose against synthetic rotations and a real photo, gaze on synthetic iris positions, and the
head-lowered / gaze-averted / shake / nod rules on synthetic series."""

from __future__ import annotations

import cv2
import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.perception.face import head_cues
from emoreason.perception.face.gaze import IRIS_L, IRIS_R, eye_angles, eye_offsets, gaze_off_camera
from emoreason.perception.face.head_pose import angles_from_matrix, head_pose, project, rotation_matrix
from emoreason.perception.face.mesh import FaceMeshTracker

face_rgb = _fx.face_rgb


@pytest.mark.parametrize("angles", [(0, 0, 0), (30, 0, 0), (-35, 10, 5), (0, -25, 0), (10, 20, -20),
                                    (-20, -15, 25), (40, -20, 10)])
def test_pose_is_recovered_from_a_rotated_projected_template(angles):
    rng = np.random.default_rng(sum(angles) + 100)
    pts = project(*angles, width=640, height=480, offset_px=(60.0, -40.0))
    pts[:, :2] += rng.normal(0.0, 0.5, size=(len(pts), 2))  # half a pixel of landmark noise
    got = head_pose(pts, 640, 480)
    np.testing.assert_allclose(got, angles, atol=3.0)


def test_pose_error_over_random_rotations_is_small():
    rng = np.random.default_rng(0)
    errors = []
    for _ in range(40):
        truth = (rng.uniform(-40, 40), rng.uniform(-30, 30), rng.uniform(-30, 30))
        pts = project(*truth, width=640, height=480, offset_px=tuple(rng.uniform(-100, 100, 2)))
        pts[:, :2] += rng.normal(0.0, 1.0, size=(len(pts), 2))
        errors.append(np.abs(np.array(head_pose(pts, 640, 480)) - truth))
    assert np.max(errors) < 5.0 and np.mean(errors) < 1.5


def test_angle_conventions():
    np.testing.assert_allclose(angles_from_matrix(rotation_matrix(12, -7, 30)), (12, -7, 30), atol=1e-9)
    # yaw > 0 turns the nose tip (point 1) towards the image's right; pitch < 0 moves it down
    front = project(0, 0, 0)
    assert project(20, 0, 0)[1, 0] > front[1, 0] + 5
    assert project(0, -20, 0)[1, 1] > front[1, 1] + 5
    # roll > 0 is clockwise in the image: the subject's left eye (263) goes down
    assert project(0, 0, 20)[263, 1] > front[263, 1] + 5


def test_pose_on_a_real_photo_mirrors_and_rotates(face_rgb):
    h, w = face_rgb.shape[:2]
    rot = cv2.getRotationMatrix2D((230.0, 130.0), -15.0, 1.0)  # OpenCV: negative angle = clockwise
    with FaceMeshTracker(static=True) as tracker:
        upright = head_pose(tracker.main_face(face_rgb)[0].points, w, h)
        mirrored = head_pose(tracker.main_face(face_rgb[:, ::-1].copy())[0].points, w, h)
        turned = head_pose(tracker.main_face(cv2.warpAffine(face_rgb, rot, (w, h),
                                                            borderMode=cv2.BORDER_REPLICATE))[0].points, w, h)
    assert abs(upright[0]) < 10 and abs(upright[2]) < 10  # the astronaut faces the camera
    assert mirrored[0] == pytest.approx(-upright[0], abs=3)
    assert mirrored[2] == pytest.approx(-upright[2], abs=3)
    assert mirrored[1] == pytest.approx(upright[1], abs=3)
    assert turned[2] - upright[2] == pytest.approx(15.0, abs=4)


def _with_iris_shift(points: np.ndarray, dx: float, dy: float = 0.0) -> np.ndarray:
    """``points`` with both irises moved by (dx, dy) half eye-widths (frontal template: image axes)."""
    p = points.copy()
    for centre, corners in ((IRIS_R, (33, 133)), (IRIS_L, (362, 263))):
        half = abs(p[corners[1], 0] - p[corners[0], 0]) / 2
        p[centre:centre + 5, 0] += dx * half
        p[centre:centre + 5, 1] += dy * half
    return p


def test_gaze_follows_synthetic_iris_positions():
    front = project(0, 0, 0)
    h0, v0 = eye_offsets(front)
    right = eye_offsets(_with_iris_shift(front, 0.3))
    assert right[0] - h0 == pytest.approx(0.3, abs=0.02)
    yaw0, _ = eye_angles(front)
    yaw_r, _ = eye_angles(_with_iris_shift(front, 0.3))
    yaw_l, _ = eye_angles(_with_iris_shift(front, -0.3))
    assert yaw_r > yaw0 + 15 and yaw_l < yaw0 - 15  # asin(0.3 / 0.8) = 22 degrees
    _, pitch_down = eye_angles(_with_iris_shift(front, 0.0, 0.2))
    assert pitch_down < eye_angles(front)[1] - 8
    assert gaze_off_camera(3.0, 4.0) == pytest.approx(5.0)


def test_closed_eyes_give_no_gaze():
    p = project(0, 0, 0)
    for upper, lower in (((159, 158, 160), (145, 144, 153)), ((386, 385, 387), (374, 373, 380))):
        mid = (p[list(upper), 1].mean() + p[list(lower), 1].mean()) / 2
        p[list(upper + lower), 1] = mid
    assert all(np.isnan(eye_angles(p)))
    with pytest.raises(ValueError):
        eye_offsets(p[:468])


T = np.arange(0.0, 10.0, 0.2)
STEP = 0.2


def test_head_shake_is_found_where_the_yaw_swings():
    rng = np.random.default_rng(1)
    yaw = np.where((T >= 3) & (T < 6), 15 * np.sin(2 * np.pi * 0.8 * (T - 3)), 0.0) + rng.normal(0, 1, len(T))
    found = head_cues.oscillations(yaw, T)
    assert len(found) == 1
    i, j, amp = found[0]
    assert 2.0 <= T[i] <= 3.6 and 5.0 <= T[j] <= 6.4 and amp > 20
    ev = head_cues.pose_evidence(T, np.zeros(len(T)), yaw, None, STEP)
    assert [e.name for e in ev] == ["head_shake"] and ev[0].supports is None


def test_nod_one_turn_and_jitter():
    nod = np.where(T >= 5, 8 * np.sin(2 * np.pi * 1.0 * (T - 5)), 0.0) - 5
    assert [e.name for e in head_cues.pose_evidence(T, nod, np.zeros(len(T)), None, STEP)] == ["head_nod"]
    turn = np.clip((T - 4) * 20, 0, 40)  # one slow turn is a single swing, not a shake
    jitter = np.random.default_rng(2).normal(0, 3, len(T))  # tracking noise stays under the 10-degree swings
    assert head_cues.oscillations(turn, T) == [] and head_cues.oscillations(jitter, T) == []
    assert head_cues.swings(np.array([0.0, np.nan, 12.0, 0.0]), 10.0) == [(0, 2), (2, 3)]


def test_head_lowered_and_gaze_averted_need_a_second():
    pitch = np.where((T >= 2) & (T < 4), -25.0, -5.0)
    brief = np.where((T >= 6) & (T < 6.6), 40.0, 5.0)
    ev = head_cues.pose_evidence(T, pitch, np.zeros(len(T)), brief, STEP)
    assert [(e.name, e.start, round(e.end, 1)) for e in ev] == [("head_lowered", 2.0, 4.0)]
    assert ev[0].value == -25.0 and "head lowered" in ev[0].description
    long_away = np.where(T >= 7, 35.0, 5.0)
    ev = head_cues.pose_evidence(T, np.full(len(T), -5.0), np.zeros(len(T)), long_away, STEP)
    assert [e.name for e in ev] == ["gaze_averted"] and ev[0].value == 35.0
    below = head_cues.pose_evidence(T, np.full(len(T), -15.0), np.zeros(len(T)), np.full(len(T), 27.0), STEP)
    assert below == []  # under both thresholds (-20 degrees of pitch, 30 off the camera)
    # a photo: one frame is enough
    one = head_cues.pose_evidence(np.array([0.0]), np.array([-30.0]), np.array([0.0]), np.array([30.0]), 1.0)
    assert [e.name for e in one] == ["head_lowered", "gaze_averted"]


def test_many_cues_keep_the_longest():
    t = np.arange(0.0, 60.0, 0.2)
    pitch = np.where((t % 10 >= 2) & (t % 10 < 2 + t // 10 + 1), -30.0, 0.0)  # runs of 1, 2, ... 6 s
    ev = head_cues.pose_evidence(t, pitch, np.zeros(len(t)), None, 0.2)
    assert len(ev) == head_cues.MAX_EVIDENCE
    assert [round(e.end - e.start) for e in ev] == [6, 5, 4, 3]


def test_the_explanation_names_a_pose_cue_with_its_times():
    from emoreason.explain import explain

    pitch = np.where((T >= 2) & (T < 4), -25.0, -5.0)
    ev = head_cues.pose_evidence(T, pitch, np.zeros(len(T)), None, STEP)
    ev[0].weight = 0.5
    text = explain("sad", {"sad": 0.6, "neutral": 0.4}, ev, {"face": 1.0}, {})
    assert text.startswith("Face: head lowered (pitch -25°; 2.0–4.0 s).")
