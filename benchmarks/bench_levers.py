"""Each speed lever of the analyze chain alone, in one process, on one clip (wall and CPU seconds):

1. the audio path in a background thread beside the video path, against the same code with the
   background thread replaced by an inline call (runs alternate, medians);
2. the face stage's mediapipe graphs and tflite interpreters taken from the thread's pool, against
   building them afresh (what every clip and photo paid before);
3. CTranslate2 (speech-to-text) on 1, 2 and 4 threads for the clip's transcript.

    .venv/bin/python benchmarks/bench_levers.py CLIP.mp4 [--reps 6]
(bench_analyze.py --keep DIR leaves its clips in DIR.)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import emoreason.pipeline.audio_path as audio_path_module
import emoreason.pipeline.perceive as perceive_module
from emoreason.api import analyze
from emoreason.io.audio import ArrayAudio, WavFileAudio
from emoreason.io.media import decode
from emoreason.perception.face import mesh
from emoreason.perception.face.analyzer import FaceAnalyzer
from emoreason.perception.speech import asr, language_id, whisper
from emoreason.perception.speech.vad import detect_speech


def cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def timed(fn) -> tuple[float, float]:
    c0, t0 = cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu() - c0


class Inline:
    """The pipeline's Background, run at once in the calling thread."""

    def __init__(self, fn, name: str = "") -> None:
        self._value = fn()

    def result(self):
        return self._value


def background_vs_inline(clip: str, reps: int) -> None:
    threaded = perceive_module.Background
    modules = (perceive_module, audio_path_module)  # the audio path's thread, and the voice model's in it
    analyze(clip, modalities=["face", "voice"])
    runs: dict[str, list[tuple[float, float]]] = {"background": [], "inline": []}
    for rep in range(reps):
        order = [("background", threaded), ("inline", Inline)]
        for name, cls in order if rep % 2 == 0 else order[::-1]:
            for module in modules:
                module.Background = cls
            runs[name].append(timed(lambda: analyze(clip, modalities=["face", "voice"])))
    for module in modules:
        module.Background = threaded
    for name, v in runs.items():
        print(f"face+voice, audio path {name:<10}: median {statistics.median(w for w, _ in v):.2f} s wall, "
              f"{statistics.median(c for _, c in v):.2f} CPU s over {reps} runs")


def pooled_vs_fresh(reps: int) -> None:
    rgb = np.full((360, 640, 3), 90, np.uint8)

    def one_clip():
        face = FaceAnalyzer()
        face.add_frame(0.0, rgb)  # no face: the mesh, then the full-range detector, run
        face.finish()

    one_clip()
    pooled = [timed(one_clip) for _ in range(reps)]

    def fresh():
        mesh._pool.free = {}  # what every clip paid before: new graphs
        one_clip()

    built = [timed(fresh) for _ in range(reps)]
    for name, v in (("pooled graphs", pooled), ("fresh graphs", built)):
        print(f"face stage set-up + 1 frame, {name:<13}: median {statistics.median(w for w, _ in v):.3f} s "
              f"wall, {statistics.median(c for _, c in v):.3f} CPU s")


def asr_threads(clip: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "a.wav"
        decode(clip, audio_path=wav)
        audio = ArrayAudio(WavFileAudio(wav).read())
    speech = detect_speech(audio)
    original = language_id.load_whisper  # the packaged model is loaded where the language is routed
    try:
        for n in (1, 2, 4):
            language_id.load_whisper = lambda d=None, n=n: whisper.load_whisper(d, cpu_threads=n)
            asr.transcribe(audio, speech)
            runs = [timed(lambda: asr.transcribe(audio, speech)) for _ in range(2)]
            print(f"speech-to-text, CTranslate2 on {n} thread(s): {min(w for w, _ in runs):.2f} s wall, "
                  f"{min(c for _, c in runs):.2f} CPU s (best of 2)")
    finally:
        language_id.load_whisper = original


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clip")
    ap.add_argument("--reps", type=int, default=6)
    args = ap.parse_args(argv)
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{args.clip}; load average {os.getloadavg()[0]:.1f} at {now}")
    background_vs_inline(args.clip, args.reps)
    pooled_vs_fresh(args.reps)
    asr_threads(args.clip)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
