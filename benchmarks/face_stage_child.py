"""One side (``before`` or ``after``) of ``bench_face_stage.py``, run with that side's ``src`` on PYTHONPATH.

    python face_stage_child.py speed CLIP          # per analysed frame: whole add_frame, then per part
    python face_stage_child.py photos PATHS.json   # analyze_face_image on each photo: label and scores
    python face_stage_child.py clips SPEC.json     # each clip through FaceAnalyzer: label, scores, per frame

It uses only what both sides have (``FaceAnalyzer``, ``analyze_face_image``, ``decode``, ``load_still``) and
times the parts it finds; prints one JSON object. CPU time is the process' user + system time (every
thread: mediapipe runs its graph on its own threads), from ``time.process_time``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict

import numpy as np

from emoreason.io.media import decode, load_still
from emoreason.labels import CANONICAL
from emoreason.perception.face import analyzer as A
from emoreason.perception.face import mesh as M

FPS = 5.0


def frames_of(clip: str) -> list[tuple[float, np.ndarray]]:
    """The frames the pipeline's video path feeds the face stage (``decode`` at 5 fps, its defaults)."""
    out: list[tuple[float, np.ndarray]] = []
    decode(clip, fps=FPS, on_frame=lambda t, rgb: out.append((t, rgb)), check_truncation=False)
    return out


def analyzer(follow: bool | None = None) -> A.FaceAnalyzer:
    """A video FaceAnalyzer; ``follow`` sets its tracker's ``follow_small`` where this side has it."""
    an = A.FaceAnalyzer(fps=FPS)
    if follow is not None and hasattr(an.tracker, "follow_small"):
        an.tracker.follow_small = follow
    return an


class Parts:
    """Wraps the face stage's parts with timers (process CPU and wall seconds, calls)."""

    def __init__(self) -> None:
        self.cpu, self.wall, self.calls = defaultdict(float), defaultdict(float), defaultdict(int)

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            c0, t0 = time.process_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[name] += time.process_time() - c0
                self.wall[name] += time.perf_counter() - t0
                self.calls[name] += 1
        return timed

    def instrument(self, an: A.FaceAnalyzer, first: np.ndarray) -> None:
        tr = an.tracker
        tr.faces_via_detector(first)  # makes the detector's graphs now, so that they can be timed
        tr.main_face = self.wrap("mesh (all)", tr.main_face)
        tr._downscaled = self.wrap("mesh: downscale frame", tr._downscaled)
        tr._mesh.process = self.wrap("mesh: full-frame mesh graph", tr._mesh.process)
        tr._detector.process = self.wrap("mesh: full-range detector", tr._detector.process)
        tr._crop_mesh.process = self.wrap("mesh: crop mesh graph", tr._crop_mesh.process)
        M._to_mesh = self.wrap("mesh: landmarks to numpy", M._to_mesh)
        if hasattr(tr, "_followed"):
            tr._followed = self.wrap("mesh: followed square (all)", tr._followed)
        A.au.raw_vector = self.wrap("AU measures", A.au.raw_vector)
        A.face_crop_gray = self.wrap("fer crop", A.face_crop_gray)
        an.fer.predict = self.wrap("fer (tflite)", an.fer.predict)
        if an.net is not None:
            A.net_crop = self.wrap("net crop", A.net_crop)
            an.net.run = self.wrap("net (onnx, face + mirror)", an.net.run)
        if an.facex is not None:
            A.face_square_gray = self.wrap("facex crop", A.face_square_gray)
            an.facex.predict = self.wrap("facex (resize + tflite)", an.facex.predict)
        an.expression.scores = self.wrap("expression model", an.expression.scores)
        an.geometry.add = self.wrap("head pose + gaze", an.geometry.add)


def speed(clip: str, repeats: int) -> dict:
    frames = frames_of(clip)
    warm = analyzer()
    for t, rgb in frames[:5]:
        warm.add_frame(t, rgb)
    warm.finish()
    totals = []
    for _ in range(repeats):  # the whole stage, untouched
        an = analyzer()
        c0, t0 = time.process_time(), time.perf_counter()
        for t, rgb in frames:
            an.add_frame(t, rgb)
        out = an.finish()
        totals.append({"cpu_ms": (time.process_time() - c0) / len(frames) * 1000,
                       "wall_ms": (time.perf_counter() - t0) / len(frames) * 1000})
    parts = Parts()  # once more with every part timed
    an = analyzer()
    parts.instrument(an, frames[0][1])
    c0, t0 = time.process_time(), time.perf_counter()
    for t, rgb in frames:
        an.add_frame(t, rgb)
    timed_cpu, timed_wall = time.process_time() - c0, time.perf_counter() - t0
    n = len(frames)
    return {"frames": n, "totals": totals, "details": {k: v for k, v in out.details.items()
                                                        if k.startswith("frames") or k == "facex_runs"},
            "timed_total": {"cpu_ms": timed_cpu / n * 1000, "wall_ms": timed_wall / n * 1000},
            "parts": {k: {"calls": parts.calls[k], "cpu_ms": parts.cpu[k] / n * 1000,
                          "wall_ms": parts.wall[k] / n * 1000} for k in parts.cpu}}


def photos(paths: list[str]) -> list[dict]:
    out = []
    for path in paths:
        res = A.analyze_face_image(load_still(path))
        label = max(res.scores, key=res.scores.get) if res.usable else None
        out.append({"usable": res.usable, "label": label, "scores": res.scores})
    return out


class Counted:
    """A function that counts its calls."""

    def __init__(self, fn) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def clips(spec: dict) -> dict:
    """``spec``: {"clips": [paths], "runs": {name: {"follow": bool | None, "shift": pixels}}}."""
    result: dict = {}
    for clip in spec["clips"]:
        frames = frames_of(clip)
        result[clip] = {}
        for name, run in spec["runs"].items():
            an = analyzer(follow=run.get("follow"))
            searches = Counted(an.tracker._search) if hasattr(an.tracker, "_search") else None
            if searches is not None:
                an.tracker._search = searches
            shift = int(run.get("shift", 0))  # the video moved right by this many pixels: the noise baseline
            for t, rgb in frames:
                an.add_frame(t, np.ascontiguousarray(np.roll(rgb, shift, axis=1)) if shift else rgb)
            out = an.finish()
            probs = (out.series["probabilities"][list(CANONICAL)].to_numpy() if out.usable
                     else np.zeros((0, len(CANONICAL))))
            aus = out.series["aus"].to_numpy() if out.usable else np.zeros((0, 0))
            result[clip][name] = {
                "label": max(out.scores, key=out.scores.get) if out.usable else None, "scores": out.scores,
                "per_frame": probs.tolist(), "aus": aus.tolist(),
                "times": [round(float(t), 4) for t in out.series["aus"].index] if out.usable else [],
                "frames": out.details.get("frames_with_face"), "face_px": out.details.get("face_px"),
                "searches": searches.calls if searches is not None else None}
    return result


def main() -> None:
    mode, arg = sys.argv[1], sys.argv[2]
    load = os.getloadavg()[0]
    if mode == "speed":
        out = speed(arg, int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    elif mode == "photos":
        out = photos(json.loads(open(arg, encoding="utf-8").read()))
    else:
        out = clips(json.loads(open(arg, encoding="utf-8").read()))
    print(json.dumps({"load": [load, os.getloadavg()[0]], "out": out}))


if __name__ == "__main__":
    main()
