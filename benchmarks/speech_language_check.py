"""Speech-to-text decisions before and after a change, in one run: language, probability and words.

Each side (``--before`` REF exported with ``code_at.py``; ``after`` = this tree) runs in its own subprocess
and transcribes, as the pipeline does (the VAD's speech spans, then :func:`asr.transcribe`):

- every k-th clip of EmoDB (German) and RAVDESS (English) in the shared data (``--data``), ``-n`` each;
- espeak-ng speech: the demo sentence, the speech tests' English sentences and German sentence (0.5-1 s
  of silence around each), and the demo sentence repeated over 30 s.

Printed: per corpus, the languages found on each side, how many clips got the same language and the same
words, the largest probability difference; each espeak-ng item's language, probability and words on both
sides; and the seconds each side spent in ``transcribe`` (a shared machine: a rough number).

    PYTHONPATH=src python benchmarks/speech_language_check.py --before dc177d4 -n 60
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from code_at import REPO, code_at

ESPEAK = {"demo": ("DEMO", "en-us"),
          "believe": ("I can't believe you did that. This is the best day of my life.", "en-us"),
          "german": ("Ich gehe heute in den Laden, um Brot und Milch zu kaufen.", "de")}

WORKER = """
import json, sys, time
import numpy as np
import soundfile as sf
from emoreason.io.audio import ArrayAudio
from emoreason.io.demo_clip import DEMO_SENTENCE, speak
from emoreason.perception.speech.asr import transcribe
from emoreason.perception.speech.vad import detect_speech
task = json.loads(open(sys.argv[1]).read())
spent = [0.0]
def run(name, audio):
    speech = detect_speech(audio)
    t0 = time.perf_counter()
    t = transcribe(audio, speech) if speech else None
    spent[0] += time.perf_counter() - t0
    return {"name": name, "language": t and t.language, "p": t and t.language_probability,
            "text": t and t.text, "notes": t and t.notes}
out = []
for path in task["clips"]:
    x, sr = sf.read(path, dtype="float32", always_2d=False)
    out.append(run(path, ArrayAudio(x, sr)))
pad = np.zeros(8000, np.float32)
for name, (text, voice) in task["espeak"].items():
    x = speak(DEMO_SENTENCE if text == "DEMO" else text, voice=voice)
    out.append(run(name, ArrayAudio(np.concatenate([pad, x, pad]))))
x = speak(DEMO_SENTENCE)
unit = np.concatenate([x, np.zeros(8000, np.float32)])
out.append(run("demo x 30 s", ArrayAudio(np.tile(unit, int(30 * 16000 / len(unit)) + 1)[:30 * 16000])))
print(json.dumps({"rows": out, "transcribe_s": spent[0]}))
"""


def clips(root: Path, n: int) -> dict[str, list[str]]:
    out = {}
    for folder in ("emodb", "ravdess_speech"):
        rows = list(csv.DictReader(open(root / folder / "labels.csv", encoding="utf-8")))
        out[folder] = [str(root / folder / r["path"]) for r in rows[::max(1, len(rows) // n)][:n]]
    return out


def run_side(src: Path, task: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(task, f)
    env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    try:
        r = subprocess.run([sys.executable, "-c", WORKER, f.name], env=env, capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        raise SystemExit(f"worker on {src} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="git ref of the baseline")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("-n", type=int, default=60, help="clips per corpus")
    args = ap.parse_args()
    corpora = clips(args.data, args.n)
    task = {"clips": [p for ps in corpora.values() for p in ps], "espeak": ESPEAK}
    with code_at(args.before) as before_src:
        res = {side: run_side(src, task) for side, src in (("before", before_src), ("after", REPO / "src"))}
    rows = {side: {r["name"]: r for r in res[side]["rows"]} for side in res}
    for corpus, paths in corpora.items():
        langs = {side: {} for side in rows}
        for side in rows:
            for p in paths:
                lang = rows[side][p]["language"]
                langs[side][lang] = langs[side].get(lang, 0) + 1
        same_lang = sum(rows["before"][p]["language"] == rows["after"][p]["language"] for p in paths)
        same_text = sum(rows["before"][p]["text"] == rows["after"][p]["text"] for p in paths)
        dp = max(abs((rows["before"][p]["p"] or 0) - (rows["after"][p]["p"] or 0)) for p in paths)
        print(f"{corpus}: {len(paths)} clips; languages before {langs['before']}, after {langs['after']}; "
              f"same language {same_lang}/{len(paths)}, same words {same_text}/{len(paths)}; "
              f"largest probability difference {dp:.3f}")
    for name in [*ESPEAK, "demo x 30 s"]:
        for side in rows:
            r = rows[side][name]
            print(f"{name:12s} {side:6s} {r['language']} p {r['p']}: {r['text']!r} notes {r['notes']}")
    print("seconds in transcribe: " + ", ".join(f"{s} {res[s]['transcribe_s']:.1f}" for s in res))


if __name__ == "__main__":
    main()
