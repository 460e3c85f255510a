"""Voice stage speed: two voice model folders on the same audio, alternated (so machine load hits both).

The audio: the first 15 RAVDESS clips of actor 18, 0.5 s of silence after each (about 60 s). Best of 3
runs per model after one warm-up run; prints the real-time factor and the stage timings.

    .venv/bin/python benchmarks/bench_voice_stage.py ../shared/data OLD_MODEL_DIR \
        src/emoreason/assets/models/voice
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from emoreason.io.audio import ArrayAudio
from emoreason.perception.voice.analyzer import VoiceAnalyzer


def main(data: str, *model_dirs: str) -> None:
    files = sorted((Path(data) / "ravdess_speech" / "audio" / "Actor_18").iterdir())[:15]
    parts = []
    for f in files:
        x, sr = sf.read(f, dtype="float32")
        parts += [ArrayAudio(x, sr).samples, np.zeros(8000, np.float32)]
    audio = ArrayAudio(np.concatenate(parts), 16000)
    for d in [*model_dirs, *model_dirs]:
        analyzer = VoiceAnalyzer(d)
        analyzer.analyze(audio)
        took = []
        for _ in range(3):
            start = time.perf_counter()
            out = analyzer.analyze(audio)
            took.append(time.perf_counter() - start)
        print(f"{d}: {audio.duration:.1f} s audio, {out.details['n_segments']} segments, best of 3 "
              f"{min(took):.2f} s, real-time factor {min(took) / audio.duration:.3f}, "
              f"classifier {out.details['classifier']} (gate {out.details.get('speaker_gate')}), "
              f"stages {out.details['timing_s']}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
