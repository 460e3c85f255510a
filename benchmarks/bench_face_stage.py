"""Face stage per 720p frame: fer alone vs the fer+facex pool (facex every frame / every FACEX_EVERY-th).

The three analyzers are fed the same frames in turn (so changes of machine load hit them alike);
then the facex pieces alone.

    .venv/bin/python benchmarks/bench_face_stage.py 100      # frames per analyzer
"""

from __future__ import annotations

import sys
import time

import cv2
import numpy as np
from skimage import data

from emoreason.perception.face.analyzer import FACEX_EVERY, FaceAnalyzer
from emoreason.perception.face.crops import face_square_gray
from emoreason.perception.face.image_models import FacexClassifier
from emoreason.perception.face.mesh import FaceMeshTracker


def per_call_ms(fn, k: int = 60) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(k):
        fn()
    return (time.perf_counter() - t0) / k * 1000


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    canvas = np.full((720, 1280, 3), 90, np.uint8)
    canvas[2:718, 282:998] = cv2.resize(data.astronaut(), (716, 716))
    # a drifting head
    frames = [np.ascontiguousarray(np.roll(canvas, 3 * (i % 10), axis=1)) for i in range(10)]
    ans = {"fer alone": FaceAnalyzer(fps=5.0, face_model="fer"),
           "pool, facex every frame": FaceAnalyzer(fps=5.0, face_model="pool", facex_every=1),
           f"pool (default: facex every {FACEX_EVERY} frames)": FaceAnalyzer(fps=5.0)}
    for an in ans.values():  # warm-up
        for i in range(5):
            an.add_frame(i * 0.2, frames[i])
    total = dict.fromkeys(ans, 0.0)
    for i in range(n):
        for name, an in ans.items():
            t0 = time.perf_counter()
            an.add_frame(1 + i * 0.2, frames[i % 10])
            total[name] += time.perf_counter() - t0
    for name, an in ans.items():
        out = an.finish()
        print(f"{name}: {total[name] / n * 1000:.1f} ms/frame over {n} 720p frames (expression model "
              f"{out.details['expression_model']}, facex runs {out.details.get('facex_runs', 0)}); at 5 fps "
              f"{total[name] / n * 5:.3f}x real time")
    tracker = FaceMeshTracker(static=False)
    face, _ = tracker.main_face(canvas)
    facex = FacexClassifier()
    crop = face_square_gray(canvas, face.points)
    crop_ms = per_call_ms(lambda: face_square_gray(canvas, face.points))
    print(f"facex pieces: crop {crop.shape} {crop_ms:.2f} ms; "
          f"resize {per_call_ms(lambda: FacexClassifier.preprocess(crop)):.2f} ms; "
          f"resize + tflite {per_call_ms(lambda: facex.predict(crop)):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
