"""Per-frame head pose and gaze of the main face, gathered by the face stage and summarised at the end.

:class:`GeometryTrack` keeps five numbers a frame (:mod:`~emoreason.perception.face.head_pose`'s yaw,
pitch, roll and :mod:`~emoreason.perception.face.gaze`'s eye angles); :meth:`GeometryTrack.series` gives
them as the face output's ``head_pose`` and ``gaze`` tables and :meth:`GeometryTrack.evidence` the cues of
:mod:`~emoreason.perception.face.head_cues`. A frame whose pose fit fails has NaN angles.

pandas is imported by :meth:`GeometryTrack.series`, not with this module.
"""

from __future__ import annotations

import numpy as np

from emoreason.perception.face.gaze import eye_angles, gaze_off_camera
from emoreason.perception.face.head_cues import pose_evidence
from emoreason.perception.face.head_pose import head_pose
from emoreason.result import Evidence

POSE_COLUMNS = ("yaw", "pitch", "roll")
GAZE_COLUMNS = ("eye_yaw", "eye_pitch", "gaze_yaw", "gaze_pitch", "gaze_off_camera")


class GeometryTrack:
    """Head pose and gaze per analysed frame (the same frames, in the same order, as the AU rows)."""

    def __init__(self) -> None:
        self._rows: list[tuple[float, float, float, float, float]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, points: np.ndarray, width: float, height: float) -> None:
        """Measure one face (478-point mesh in pixels of a ``width`` x ``height`` frame)."""
        try:
            yaw, pitch, roll = head_pose(points, width, height)
        except ValueError:
            yaw = pitch = roll = float("nan")
        try:
            eye_yaw, eye_pitch = eye_angles(points)
        except ValueError:
            eye_yaw = eye_pitch = float("nan")
        self._rows.append((yaw, pitch, roll, eye_yaw, eye_pitch))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every column of :data:`POSE_COLUMNS` and :data:`GAZE_COLUMNS` as a float array (NaN: not read)."""
        a = np.array(self._rows, dtype=float).reshape(-1, 5)
        out = {name: a[:, k] for k, name in enumerate(POSE_COLUMNS + GAZE_COLUMNS[:2])}
        out["gaze_yaw"] = out["yaw"] + out["eye_yaw"]
        out["gaze_pitch"] = out["pitch"] + out["eye_pitch"]
        out["gaze_off_camera"] = np.array([gaze_off_camera(y, p) for y, p in
                                           zip(out["gaze_yaw"], out["gaze_pitch"], strict=True)])
        return out

    def series(self, index) -> dict:
        """``{"head_pose": DataFrame(yaw, pitch, roll), "gaze": DataFrame(eye_yaw, ..., gaze_off_camera)}``
        on ``index`` (the AU table's), in degrees."""
        import pandas as pd

        a = self.arrays()
        return {"head_pose": pd.DataFrame({c: a[c] for c in POSE_COLUMNS}, index=index),
                "gaze": pd.DataFrame({c: a[c] for c in GAZE_COLUMNS}, index=index)}

    def summary(self) -> dict[str, float | None]:
        """Median angles over the frames (None where never read), rounded to 0.1 degree."""
        a = self.arrays()
        out: dict[str, float | None] = {}
        for c in ("yaw", "pitch", "roll", "eye_yaw", "eye_pitch", "gaze_off_camera"):
            v = a[c][np.isfinite(a[c])]
            out[c] = round(float(np.median(v)), 1) if len(v) else None
        return out

    def evidence(self, times: np.ndarray, step: float, with_gaze: bool) -> list[Evidence]:
        """Head-lowered, gaze-averted (only ``with_gaze``), shake and nod cues."""
        a = self.arrays()
        return pose_evidence(np.asarray(times, dtype=float), a["pitch"], a["yaw"],
                             a["gaze_off_camera"] if with_gaze else None, step)
