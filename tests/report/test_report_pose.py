"""The report's head-pose row: the face's median pose and gaze, and the low-confidence warning."""

from __future__ import annotations

from emoreason.report.html import render_html
from emoreason.result import Result


def test_pose_row_and_low_confidence_warning(clip_result):
    d = clip_result.to_dict()
    details = d["modalities"]["face"]["details"]
    details["head_pose_median"] = {"yaw": 12.4, "pitch": -22.0, "roll": 3.0, "eye_yaw": 1.0, "eye_pitch": 0.0,
                                   "gaze_off_camera": 27.6}
    details["cues"] = {"action_units": {"computed": True, "confidence": "low", "in_evidence": False,
                                        "why": "the face is 40 px, below 64 px"}}
    page = render_html(Result.from_dict(d))
    assert "<b>Head pose</b> (median): yaw +12° · pitch -22° · roll +3°; gaze 28° off the camera" in page
    assert "low confidence (the face is 40 px, below 64 px)" in page


def test_no_pose_row_without_pose(clip_result):
    page = render_html(clip_result)
    assert "Head pose" not in page and "low confidence" not in page
