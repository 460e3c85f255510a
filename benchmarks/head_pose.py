"""Head-pose recovery: synthetic rotations of the template, and what real photos allow to check.

``synthetic``: ``--n`` random poses (yaw +-40, pitch +-30, roll +-30 degrees, the face up to 150 px off the
centre of a 640x480 frame), the template rotated and projected with the stage's own camera model, Gaussian
landmark noise of ``--noise`` px added, and the pose recovered by
:func:`emoreason.perception.face.head_pose.head_pose`: mean and max absolute error per angle. This checks
the solver and the angle conventions; a second run makes the face differ from the template and the camera
from the assumed one (:func:`synthetic_mismatch`), closer to what a real face brings.

``photos``: ``--n-photos`` ``facial_expressions`` photos (seeded) through the mesh, each also mirrored and
rotated in the image plane by +-15 degrees. With no pose labels, what can be checked is consistency: a
mirrored photo should give -yaw, the same pitch and -roll; an in-plane rotation should change the roll by
the rotation and leave yaw and pitch. Mean absolute deviations from those expectations. Then, on 3 x
``--n-photos`` other photos, how often the photo rules for "head lowered" and "gaze averted" fire.

    .venv/bin/python benchmarks/head_pose.py --data ../shared/data [--n 500] [--noise 1.0] [--n-photos 100]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from emoreason.perception.face.head_pose import head_pose, project


def synthetic(n: int, noise: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(n):
        truth = np.array([rng.uniform(-40, 40), rng.uniform(-30, 30), rng.uniform(-30, 30)])
        pts = project(*truth, width=640, height=480, offset_px=tuple(rng.uniform(-150, 150, 2)))
        pts[:, :2] += rng.normal(0.0, noise, size=(len(pts), 2))
        errors.append(np.abs(np.array(head_pose(pts, 640, 480)) - truth))
    e = np.array(errors)
    print(f"synthetic: {n} poses, landmark noise {noise} px (face ~{_face_px():.0f} px wide)")
    for k, name in enumerate(("yaw", "pitch", "roll")):
        print(f"  {name:5s} mean |error| {e[:, k].mean():.2f}  max {e[:, k].max():.2f} degrees")


def synthetic_mismatch(n: int, noise: float, seed: int, focal_per_side: float = 1.0,
                       shape_jitter: float = 0.05) -> None:
    """As :func:`synthetic`, but the face is not the template (every point moved by Gaussian noise of
    ``shape_jitter`` inter-ocular distances, the same for all poses of one face) and the camera is not the
    assumed one (focal length ``focal_per_side`` x the long side instead of 3 x), at 60 cm."""
    from emoreason.perception.face.head_pose import IOD_CM, rotation_matrix, template

    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(n):
        face = (template() + rng.normal(0.0, shape_jitter, size=template().shape)) * IOD_CM
        truth = np.array([rng.uniform(-40, 40), rng.uniform(-30, 30), rng.uniform(-30, 30)])
        f = focal_per_side * 640
        off = rng.uniform(-100, 100, 2)
        cam_pts = face @ rotation_matrix(*truth).T + np.array([off[0] * 60 / f, off[1] * 60 / f, 60.0])
        uv = cam_pts[:, :2] / cam_pts[:, 2:3] * f + np.array([320.0, 240.0])
        uv += rng.normal(0.0, noise, size=uv.shape)
        errors.append(np.abs(np.array(head_pose(np.column_stack([uv, cam_pts[:, 2]]), 640, 480)) - truth))
    e = np.array(errors)
    print(f"synthetic, mismatched: {n} poses, each face the template + {shape_jitter} IOD of shape noise, "
          f"camera focal {focal_per_side} x long side at 60 cm, landmark noise {noise} px")
    for k, name in enumerate(("yaw", "pitch", "roll")):
        print(f"  {name:5s} mean |error| {e[:, k].mean():.2f}  max {e[:, k].max():.2f} degrees")


def _face_px() -> float:
    pts = project(0, 0, 0)
    return float(np.ptp(pts[:, 0]))


def photos(data: Path, n: int, seed: int) -> None:
    from emoreason.io.image import load_image
    from emoreason.perception.face.mesh import FaceMeshTracker

    with (data / "facial_expressions" / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = [rows[i] for i in np.random.RandomState(seed).permutation(len(rows))[:n]]
    dev: dict[str, list[np.ndarray]] = {"mirror": [], "rotate +15": [], "rotate -15": []}
    with FaceMeshTracker(static=True) as tracker:
        def pose(rgb):
            face, _ = tracker.main_face(np.ascontiguousarray(rgb))
            return None if face is None else np.array(head_pose(face.points, rgb.shape[1], rgb.shape[0]))

        for r in rows:
            rgb = load_image(data / "facial_expressions" / r["path"])
            base = pose(rgb)
            if base is None:
                continue
            h, w = rgb.shape[:2]
            mirrored = pose(rgb[:, ::-1])
            if mirrored is not None:
                dev["mirror"].append(np.abs(mirrored - base * np.array([-1, 1, -1])))
            for angle in (15.0, -15.0):
                # OpenCV's positive angle turns the image anticlockwise: the roll changes by -angle
                rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
                got = pose(cv2.warpAffine(rgb, rot, (w, h), borderMode=cv2.BORDER_REPLICATE))
                if got is not None:
                    dev[f"rotate {'+' if angle < 0 else '-'}15"].append(np.abs(got - base - [0, 0, -angle]))
    print(f"photos: {n} facial_expressions photos; mean |deviation| from the expected pose (degrees)")
    for name, d in dev.items():
        a = np.array(d)
        print(f"  {name:11s} n={len(a):4d}  yaw {a[:, 0].mean():.2f}  pitch {a[:, 1].mean():.2f}  "
              f"roll {a[:, 2].mean():.2f}")


def cue_rates(data: Path, n: int, seed: int) -> None:
    """How often the photo rules of :mod:`~emoreason.perception.face.head_cues` fire on ordinary photos."""
    from emoreason.io.image import load_image
    from emoreason.perception.face.geometry import GeometryTrack
    from emoreason.perception.face.head_cues import GAZE_AVERTED_DEG, HEAD_LOWERED_PITCH
    from emoreason.perception.face.mesh import FaceMeshTracker

    with (data / "facial_expressions" / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = [rows[i] for i in np.random.RandomState(seed + 5).permutation(len(rows))[:n]]
    track = GeometryTrack()
    with FaceMeshTracker(static=True) as tracker:
        for r in rows:
            rgb = load_image(data / "facial_expressions" / r["path"])
            face, _ = tracker.main_face(rgb)
            if face is not None:
                track.add(face.points, rgb.shape[1], rgb.shape[0])
    a = track.arrays()
    off, pitch = a["gaze_off_camera"], a["pitch"]
    print(f"cue rates on {len(track)} facial_expressions photos: "
          f"head lowered (pitch <= {HEAD_LOWERED_PITCH:.0f}) "
          f"{np.mean(pitch <= HEAD_LOWERED_PITCH):.1%}; gaze >= {GAZE_AVERTED_DEG:.0f} deg off the camera "
          f"{np.mean(off >= GAZE_AVERTED_DEG):.1%}; pitch percentiles 5/50/95 "
          f"{np.round(np.nanpercentile(pitch, [5, 50, 95]), 1).tolist()}; gaze off the camera 50/90/95 "
          f"{np.round(np.nanpercentile(off, [50, 90, 95]), 1).tolist()}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--noise", type=float, default=1.0)
    ap.add_argument("--n-photos", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    synthetic(args.n, 0.0, args.seed)
    synthetic(args.n, args.noise, args.seed)
    synthetic_mismatch(args.n, args.noise, args.seed)
    if args.n_photos:
        photos(args.data, args.n_photos, args.seed)
        cue_rates(args.data, 3 * args.n_photos, args.seed)


if __name__ == "__main__":
    main()
