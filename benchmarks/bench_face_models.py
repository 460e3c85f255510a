"""Face stage per 720p frame with each expression model, measured in one run on one thread.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_face_models.py 100      # frames per variant

Variants (a :class:`FaceAnalyzer` each, fed the same frames in turn so that changes of machine load hit
them alike): the new model alone (every registered name other than fer/facex/pool/head), fer, facex,
the old pool (``pool.json`` at git ref ``--old-ref``: the fer+facex pool shipped before issue 16, in a
temporary model folder beside the shipped ``au_baseline.json``), and the default, each with facex (where
the model uses it) on every frame -- the cost per face -- and the old pool and the default once more with
facex as videos run it (each model's ``facex_every_video``: every 3rd frame for the old pool, every 4th for
the FER+ net pool). The mesh alone (tracker on the same frames) is timed in
each analyzer's own mesh call (``tracker.main_face``) is timed inside its frame, so "expression ms/face"
is the stage's time per frame minus that analyzer's mesh time on the same frame: AU measures, crops,
image models and the expression model. Then the image models' pieces alone (crop, resize, inference),
the FER+ net's too.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from emoreason.errors import ModelError
from emoreason.perception.face.analyzer import FaceAnalyzer
from emoreason.perception.face.crops import face_crop_gray, face_square_gray
from emoreason.perception.face.expression import DEFAULT_FACE_MODEL_DIR, EXPRESSION_MODELS
from emoreason.perception.face.expression_net import net_crop
from emoreason.perception.face.image_models import FacexClassifier, FerClassifier
from emoreason.perception.face.mesh import FaceMeshTracker

POOL_FILE = "src/emoreason/assets/models/face/pool.json"


def per_call_ms(fn, k: int = 60) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(k):
        fn()
    return (time.perf_counter() - t0) / k * 1000


def old_pool_dir(ref: str, tmp: Path) -> Path:
    """A face model folder holding the shipped AU baseline and the pool.json of git ref ``ref``."""
    text = subprocess.run(["git", "show", f"{ref}:{POOL_FILE}"], capture_output=True, text=True,
                          check=True).stdout
    (tmp / "pool.json").write_text(text, encoding="utf-8")
    shutil.copy(DEFAULT_FACE_MODEL_DIR / "au_baseline.json", tmp / "au_baseline.json")
    return tmp


def timed_mesh(an: FaceAnalyzer) -> list[float]:
    """Time ``an``'s mesh calls from now on: the returned one-item list accumulates their seconds."""
    spent = [0.0]
    inner = an.tracker.main_face

    def main_face(rgb):
        t0 = time.perf_counter()
        try:
            return inner(rgb)
        finally:
            spent[0] += time.perf_counter() - t0

    an.tracker.main_face = main_face
    return spent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("frames", type=int, nargs="?", default=100, help="frames per variant")
    ap.add_argument("--old-ref", default="bf9b36c", help="git ref of the old pool (main before issue 16)")
    args = ap.parse_args(argv)
    n = args.frames
    canvas = np.full((720, 1280, 3), 90, np.uint8)
    canvas[2:718, 282:998] = cv2.resize(data.astronaut(), (716, 716))
    # a drifting head
    frames = [np.ascontiguousarray(np.roll(canvas, 3 * (i % 10), axis=1)) for i in range(10)]
    with tempfile.TemporaryDirectory() as tmp:
        old = old_pool_dir(args.old_ref, Path(tmp))
        new = [m for m in EXPRESSION_MODELS if m not in ("fer", "facex", "pool", "head")]
        ans = {}
        for m in new:
            try:
                ans[f"new model ({m})"] = FaceAnalyzer(fps=5.0, face_model=m, facex_every=1)
            except ModelError as exc:
                print(f"new model {m!r} not timed: {exc}")
        ans["fer"] = FaceAnalyzer(fps=5.0, face_model="fer")
        ans["facex"] = FaceAnalyzer(fps=5.0, face_model="facex", facex_every=1)
        ans["old pool (facex every frame)"] = FaceAnalyzer(fps=5.0, model_dir=old, face_model="pool",
                                                          facex_every=1)
        ans["default (facex every frame)"] = FaceAnalyzer(fps=5.0, facex_every=1)
        old_video = FaceAnalyzer(fps=5.0, model_dir=old, face_model="pool")
        ans[f"old pool (as in videos: facex every {old_video.facex_every})"] = old_video
        default_video = FaceAnalyzer(fps=5.0)
        ans[f"default (as in videos: facex every {default_video.facex_every})"] = default_video
        for i in range(5):  # warm-up
            for an in ans.values():
                an.add_frame(i * 0.2, frames[i])
        mesh_time = {name: timed_mesh(an) for name, an in ans.items()}
        total = dict.fromkeys(ans, 0.0)
        for i in range(n):
            for name, an in ans.items():
                t0 = time.perf_counter()
                an.add_frame(1 + i * 0.2, frames[i % 10])
                total[name] += time.perf_counter() - t0
        print(f"{n} 720p frames per variant, one face, one thread")
        print(f"{'variant':<42} {'model':>10} {'stage ms/frame':>15} {'mesh ms':>8} "
              f"{'expression ms/face':>19} {'RTF@5fps':>9}")
        for name, an in ans.items():
            out = an.finish()
            ms, mesh_ms = total[name] / n * 1000, mesh_time[name][0] / n * 1000
            print(f"{name:<42} {out.details['expression_model']:>10} {ms:>15.1f} {mesh_ms:>8.1f} "
                  f"{ms - mesh_ms:>19.1f} {total[name] / n * 5:>9.3f}")
    tracker = FaceMeshTracker(static=False)
    face, _ = tracker.main_face(canvas)
    tracker.close()
    facex, fer = FacexClassifier(), FerClassifier()
    crop = face_square_gray(canvas, face.points)
    crop64 = face_crop_gray(canvas, face.points)
    print(f"fer pieces: crop {per_call_ms(lambda: face_crop_gray(canvas, face.points)):.2f} ms; "
          f"tflite {per_call_ms(lambda: fer.predict(crop64)):.2f} ms")
    for name, an in ans.items():
        if name.startswith("new model") and getattr(an, "net", None) is not None:
            crop48 = net_crop(canvas, face.points)
            crop_ms = per_call_ms(lambda: net_crop(canvas, face.points))
            run_ms = per_call_ms(lambda an=an, c=crop48: an.net.run(c))
            print(f"{name} pieces: crop {crop_ms:.2f} ms; onnxruntime (crop + mirror) {run_ms:.2f} ms")
    crop_ms = per_call_ms(lambda: face_square_gray(canvas, face.points))
    print(f"facex pieces: crop {crop.shape} {crop_ms:.2f} ms; "
          f"resize {per_call_ms(lambda: FacexClassifier.preprocess(crop)):.2f} ms; "
          f"resize + tflite {per_call_ms(lambda: facex.predict(crop)):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
