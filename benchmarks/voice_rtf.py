"""The voice stage's real-time factor on one 10-s recording, for two or more voice model folders, alternated.

The recording: RAVDESS clips of actor 18 joined with 0.5 s pauses, cut to 10.0 s. Each model folder gets a
warm-up run (its start-up time is printed: building the analyzer, the encoder's weights read), then ``--runs``
runs alternated with the other folders' (so machine load hits all alike); prints the best and median
seconds, the real-time factor (seconds per second of audio) and the stage timings of the best run.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/voice_rtf.py ../shared/data OLD_MODEL_DIR NEW_MODEL_DIR
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from emoreason.io.audio import ArrayAudio
from emoreason.perception.voice.analyzer import VoiceAnalyzer

SECONDS = 10.0


def recording(data: str) -> ArrayAudio:
    parts = []
    for f in sorted((Path(data) / "ravdess_speech" / "audio" / "Actor_18").iterdir())[:8]:
        x, sr = sf.read(f, dtype="float32")
        parts += [ArrayAudio(x, sr).samples, np.zeros(8000, np.float32)]
    return ArrayAudio(np.concatenate(parts)[: int(SECONDS * 16000)], 16000)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    audio = recording(args.data)
    analyzers, times, timing = {}, {m: [] for m in args.models}, {}
    for m in args.models:
        t = time.perf_counter()
        analyzers[m] = VoiceAnalyzer(m)
        analyzers[m].analyze(audio)
        print(f"{m}: start-up + first run {time.perf_counter() - t:.2f} s", flush=True)
    for _ in range(args.runs):
        for m in args.models:
            t = time.perf_counter()
            out = analyzers[m].analyze(audio)
            times[m].append(time.perf_counter() - t)
            if times[m][-1] == min(times[m]):
                timing[m] = out.details.get("timing_s")
    for m in args.models:
        best, med = min(times[m]), float(np.median(times[m]))
        print(f"{m}: best {best:.2f} s, median {med:.2f} s over {args.runs} runs; RTF {best / SECONDS:.3f} "
              f"(median {med / SECONDS:.3f}); stages {timing[m]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
