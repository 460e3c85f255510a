"""Derive the 3-D face template that head-pose estimation fits (``assets/face_geometry/head_template.json``).

The template is the median shape of mediapipe's 478-point mesh over near-frontal neutral photos of
``facial_expressions`` (shared data), each mesh first put into the face's own frame by
:func:`emoreason.perception.face.action_units.face_frame` (x from the subject's right eye to the left eye,
y down the face, z away from the camera; unit: the inter-ocular distance). Photos whose mesh is turned more
than ``--max-turn`` (the depth difference between the two eye centres, in inter-ocular units) are skipped.

Run from the repository root:
    python tools/derive_head_template.py --data ../shared/data/facial_expressions --n 300
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from emoreason.assets import asset_path
from emoreason.io.atomic import atomic_write_text
from emoreason.io.image import load_image
from emoreason.perception.face.action_units import EYE_L_IN, EYE_L_OUT, EYE_R_IN, EYE_R_OUT, face_frame
from emoreason.perception.face.mesh import FaceMeshTracker, as_rgb


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the facial_expressions folder")
    ap.add_argument("--n", type=int, default=300, help="neutral photos to use")
    ap.add_argument("--max-turn", type=float, default=0.08)
    ap.add_argument("--out", type=Path, default=asset_path("face_geometry", "head_template.json"))
    args = ap.parse_args(argv)
    rows = [r for r in csv.DictReader(open(args.data / "labels.csv", encoding="utf-8"))
            if r["emotion"] == "neutral"]
    shapes, seen = [], 0
    with FaceMeshTracker(static=True) as tracker:
        for r in rows:
            if len(shapes) >= args.n:
                break
            seen += 1
            face, _ = tracker.main_face(as_rgb(load_image(args.data / r["path"])))
            if face is None:
                continue
            p = np.asarray(face.points, dtype=np.float64)
            iod = np.linalg.norm((p[EYE_L_OUT] + p[EYE_L_IN]) / 2 - (p[EYE_R_OUT] + p[EYE_R_IN]) / 2)
            turn = abs(((p[EYE_L_OUT] + p[EYE_L_IN]) / 2 - (p[EYE_R_OUT] + p[EYE_R_IN]) / 2)[2]) / iod
            if turn <= args.max_turn:
                shapes.append(face_frame(p))
    template = np.median(np.stack(shapes), axis=0)
    meta = {"source": f"median face_frame shape of {len(shapes)} near-frontal neutral facial_expressions "
                      "photos "
                      f"(of the first {seen} neutral photos; eye-depth difference <= {args.max_turn} IOD)",
            "unit": "inter-ocular distance", "axes": "x: subject's right eye -> left eye, y: down, z: away",
            "points": np.round(template, 4).tolist()}
    atomic_write_text(args.out, json.dumps(meta) + "\n")
    print(f"wrote {args.out} from {len(shapes)} photos")


if __name__ == "__main__":
    main()
