"""The builder's per-frame face CSV: AU intensities, then head pose and gaze when the face stage gave them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from emoreason.dataset_builder.builder import _face_frames, _write_series
from emoreason.perception.base import ModalityOutput


def _face(with_pose: bool) -> tuple[ModalityOutput, pd.DataFrame]:
    idx = pd.Index([0.0, 0.2, 0.4], name="time")
    aus = pd.DataFrame({"AU06": [0.1, 1.7, 0.3], "AU12": [0.2, 2.0, 0.1]}, index=idx)
    series = {"aus": aus}
    if with_pose:
        series["head_pose"] = pd.DataFrame({"yaw": [1.0, 2.0, np.nan], "pitch": [-3.0, -21.5, -4.0],
                                            "roll": [0.5, 0.0, 0.2]}, index=idx)
        series["gaze"] = pd.DataFrame({"eye_yaw": [0.0, 4.0, 1.0], "gaze_off_camera": [3.0, 30.25, 5.0]},
                                      index=idx)
    return ModalityOutput("face", True, scores={"happy": 1.0}, series=series), aus


def test_csv_holds_aus_then_pose_and_gaze(tmp_path):
    face, aus = _face(with_pose=True)
    paths = _write_series(tmp_path, "c1", _face_frames(face, aus), None)
    lines = (tmp_path / paths["aus"]).read_text().splitlines()
    assert lines[0] == "time,AU06,AU12,yaw,pitch,roll,eye_yaw,gaze_off_camera"
    assert lines[2] == "0.2000,1.7000,2.0000,2.0000,-21.5000,0.0000,4.0000,30.2500"
    assert lines[3].split(",")[3] == ""  # a pose the fit could not read stays empty
    assert paths["prosody"] is None


def test_csv_without_pose_is_the_au_table(tmp_path):
    face, aus = _face(with_pose=False)
    assert _face_frames(face, aus) is aus
    assert _face_frames(None, None) is None
