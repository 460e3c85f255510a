"""Action-Unit-like measures computed from the geometry of mediapipe's 478-point face mesh.

These are geometric proxies, not a FACS-certified coder: each measure is a distance or height in the
face's own coordinate frame that moves when the named Action Unit acts. They cannot see texture
(wrinkles, bulges), so AU6 and AU9 in particular are weak.

1. :func:`face_frame` rotates the 3-D mesh into the face's own frame (x from the right eye to the
   left eye, y down the face, z towards the camera) and divides by the inter-ocular distance (eye
   centre to eye centre), so the measures do not change with image scale, roll or (mostly) head turn.
2. :func:`raw_measures` gives one number per AU in inter-ocular units (sign: larger = more of the AU).
3. :func:`intensities` turns raw measures into an intensity against a baseline: ``(raw - baseline) /
   scale``, clipped at 0, where ``scale`` is the spread of the measure across neutral faces of many
   people. So an intensity of 1 means "one between-person neutral SD beyond the baseline". The
   baseline is the person's own neutral (video) or a population's neutral (single image).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from emoreason.errors import ModelError

# mediapipe face-mesh landmark indices. "R" is the subject's right (image left).
EYE_R_OUT, EYE_R_IN, EYE_L_IN, EYE_L_OUT = 33, 133, 362, 263
LID_R_UP, LID_R_LO, LID_L_UP, LID_L_LO = (159, 158, 160), (145, 144, 153), (386, 385, 387), (374, 373, 380)
BROW_R_IN, BROW_L_IN = (107, 55), (336, 285)
BROW_R_MID, BROW_L_MID = (105, 52), (334, 282)
BROW_R_OUT, BROW_L_OUT = (70, 46), (300, 276)
CHEEK_R, CHEEK_L = (50, 117), (280, 346)
ALA_R, ALA_L = 129, 358
SUBNASALE, FOREHEAD, CHIN = 2, 10, 152
MOUTH_R, MOUTH_L = 61, 291
LIP_UP_OUT, LIP_UP_IN, LIP_LO_IN, LIP_LO_OUT = 0, 13, 14, 17

#: AU codes we measure, with what each geometric proxy is.
AU_DEFINITIONS: dict[str, str] = {
    "AU01": "inner-brow height above the inner eye corners",
    "AU02": "outer-brow height above the outer eye corners",
    "AU04": "brows lowered and drawn together (minus brow height, minus inner-brow gap)",
    "AU05": "upper-lid height above the eye-corner line",
    "AU06": "cheek height (cheek points rising towards the eyes)",
    "AU07": "lower-lid rise towards the eye-corner line",
    "AU09": "nose wings rising towards the inner eye corners (minus their distance)",
    "AU10": "upper lip rising towards the nose (minus subnasale-lip distance)",
    "AU12": "lip corners rising towards the nose (minus corner-to-subnasale height)",
    "AU15": "lip corners falling below the centre of the lips' opening",
    "AU20": "mouth width (lip corner to lip corner)",
    "AU23": "lips thinned (minus red-lip thickness)",
    "AU25": "lips parted (inner-lip gap)",
    "AU26": "jaw dropped (subnasale-chin distance)",
    "AU43": "eyes closed (minus eye aperture)",
}
AU_NAMES: tuple[str, ...] = tuple(AU_DEFINITIONS)


def face_frame(points: np.ndarray) -> np.ndarray:
    """Mesh points (N, 3) in pixels -> the face's own frame, in inter-ocular-distance units."""
    p = np.asarray(points, dtype=np.float64)
    eye_r = (p[EYE_R_OUT] + p[EYE_R_IN]) / 2
    eye_l = (p[EYE_L_OUT] + p[EYE_L_IN]) / 2
    iod = float(np.linalg.norm(eye_l - eye_r))
    if not np.isfinite(iod) or iod < 1e-6:
        raise ValueError("degenerate face mesh (eyes coincide)")
    ex = (eye_l - eye_r) / iod
    down = p[CHIN] - p[FOREHEAD]
    ey = down - ex * float(down @ ex)
    ey /= np.linalg.norm(ey)
    ez = np.cross(ex, ey)
    rot = np.stack([ex, ey, ez])
    return ((p - (eye_r + eye_l) / 2) @ rot.T) / iod


def _y(q: np.ndarray, idx: int | tuple[int, ...]) -> float:
    return float(np.mean(q[list(idx) if isinstance(idx, tuple) else [idx], 1]))


def _dist(q: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(q[a] - q[b]))


def raw_measures(points: np.ndarray) -> dict[str, float]:
    """One geometric measure per AU (inter-ocular units; larger = more of that AU)."""
    q = face_frame(points)
    y = q[:, 1]  # positive = lower on the face
    corners_in = (y[EYE_R_IN] + y[EYE_L_IN]) / 2
    corners_out = (y[EYE_R_OUT] + y[EYE_L_OUT]) / 2
    eye_line = (corners_in + corners_out) / 2
    inner_brow = corners_in - (_y(q, BROW_R_IN) + _y(q, BROW_L_IN)) / 2
    outer_brow = corners_out - (_y(q, BROW_R_OUT) + _y(q, BROW_L_OUT)) / 2
    mid_brow = eye_line - (_y(q, BROW_R_MID) + _y(q, BROW_L_MID)) / 2
    brow_gap = abs(float(np.mean(q[list(BROW_L_IN), 0]) - np.mean(q[list(BROW_R_IN), 0])))
    upper_lid = eye_line - (_y(q, LID_R_UP) + _y(q, LID_L_UP)) / 2
    lower_lid = (_y(q, LID_R_LO) + _y(q, LID_L_LO)) / 2 - eye_line
    cheek = (_y(q, CHEEK_R) + _y(q, CHEEK_L)) / 2
    ala_eye = (_dist(q, ALA_R, EYE_R_IN) + _dist(q, ALA_L, EYE_L_IN)) / 2
    corners = (y[MOUTH_R] + y[MOUTH_L]) / 2
    return {
        "AU01": inner_brow,
        "AU02": outer_brow,
        "AU04": -(mid_brow + brow_gap) / 2,
        "AU05": upper_lid,
        "AU06": -cheek,
        "AU07": -lower_lid,
        "AU09": -ala_eye,
        "AU10": -_dist(q, SUBNASALE, LIP_UP_OUT),
        "AU12": y[SUBNASALE] - corners,
        "AU15": corners - (y[LIP_UP_IN] + y[LIP_LO_IN]) / 2,
        "AU20": _dist(q, MOUTH_R, MOUTH_L),
        "AU23": -(_dist(q, LIP_UP_OUT, LIP_UP_IN) + _dist(q, LIP_LO_IN, LIP_LO_OUT)),
        "AU25": _dist(q, LIP_UP_IN, LIP_LO_IN),
        "AU26": _dist(q, SUBNASALE, CHIN),
        "AU43": -(upper_lid + lower_lid),
    }


def raw_vector(points: np.ndarray) -> np.ndarray:
    m = raw_measures(points)
    return np.array([m[a] for a in AU_NAMES], dtype=np.float64)


#: Landmarks whose face-frame (x, y) positions feed the expression head (brows, eyes, nose, mouth, jaw).
SHAPE_LANDMARKS: tuple[int, ...] = (
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300, 46, 52, 55, 285, 282, 276,
    33, 160, 159, 158, 133, 153, 145, 144, 362, 385, 386, 387, 263, 373, 374, 380,
    50, 117, 280, 346, 129, 358, 2, 1, 6,
    61, 291, 0, 13, 14, 17, 39, 269, 181, 405, 78, 308, 84, 314,
    152, 148, 377, 172, 397, 234, 454,
)


def shape_vector(points: np.ndarray) -> np.ndarray:
    """Face-frame (x, y) of :data:`SHAPE_LANDMARKS`, flattened (for the trained expression head)."""
    q = face_frame(points)
    return q[list(SHAPE_LANDMARKS), :2].reshape(-1)


class AUBaseline:
    """Per-AU centre and scale: a population neutral (shipped JSON) or a person's own neutral."""

    def __init__(self, center: Mapping[str, float], scale: Mapping[str, float], source: str = "") -> None:
        missing = [a for a in AU_NAMES if a not in center or a not in scale]
        if missing:
            raise ModelError(f"AU baseline lacks {', '.join(missing)}")
        self.center = {a: float(center[a]) for a in AU_NAMES}
        self.scale = {a: max(float(scale[a]), 1e-6) for a in AU_NAMES}
        self.source = source

    @classmethod
    def load(cls, path: str | Path) -> AUBaseline:
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(d["center"], d["scale"], source=str(d.get("source", path)))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read AU baseline {path}: {exc}") from exc

    def to_json(self) -> dict:
        return {"center": self.center, "scale": self.scale, "source": self.source,
                "definitions": AU_DEFINITIONS}

    def with_center(self, center: Mapping[str, float], source: str) -> AUBaseline:
        """Same scales, another centre (e.g. the person's own neutral)."""
        return AUBaseline(center, self.scale, source=source)


def intensities(raw: Mapping[str, float], baseline: AUBaseline) -> dict[str, float]:
    """``max(0, (raw - centre) / scale)`` per AU."""
    return {a: max(0.0, (float(raw[a]) - baseline.center[a]) / baseline.scale[a]) for a in AU_NAMES}


#: An AU counts as active when its intensity reaches this many population-neutral SDs.
ACTIVE_THRESHOLD = 1.5


def active_aus(aus: Mapping[str, float], threshold: float = ACTIVE_THRESHOLD) -> set[str]:
    return {a for a, v in aus.items() if v >= threshold}
