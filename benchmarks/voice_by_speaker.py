"""Clips of one speaker read together (``emoreason.analyze_clips`` / ``eval --voice-by-speaker``) against the
same clips read one at a time, through the real voice stage (VAD, level, Whisper encoder, classifier), on
RAVDESS actors the model never heard.

The shipped recipe (``emoreason.training.voice.model.export``) is retrained without the test actors into a
temporary folder, then ``VoiceAnalyzer(model_dir=...)`` reads each test actor's 60 clips twice: ``analyze``
per clip (the baseline: one utterance, the population path) and ``analyze_clips`` on all 60 (one recording:
the recording normalisation and the speaker gate see them together). Scores are UAR over the 7 canonical
labels (calm merged into neutral, as ``analyze`` reports); ``ratio`` is the grouped UAR over the per-clip UAR.

    .venv/bin/python benchmarks/voice_by_speaker.py ../shared/data [--test-actors 2 9 16 | --all-folds]

Needs the training feature cache (``python -m emoreason.training.voice.model`` builds it; otherwise about
an hour of feature extraction). About 2 minutes a fold on 2 cores (retraining included); ``--all-folds``
runs six (every actor held out once, one seed) and also prints the pooled result.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from emoreason.eval.metrics import uar
from emoreason.io.audio import ArrayAudio
from emoreason.perception.voice.analyzer import VoiceAnalyzer
from emoreason.training.voice import model as vm
from emoreason.training.voice.features import load_ravdess, read_clip
from emoreason.training.voice.recipe import CLASSES, RAVDESS_TO_CANONICAL


def subset_frames(frames: list, idx: np.ndarray) -> list:
    """Each view's (states, offsets) cut down to the clips ``idx``."""
    out = []
    for states, offsets in frames:
        parts = [states[offsets[i]:offsets[i + 1]] for i in idx]
        out.append((np.concatenate(parts), np.concatenate([[0], np.cumsum([len(p) for p in parts])])))
    return out


# every actor held out once
FOLDS = ((2, 9, 16), (1, 8, 15), (4, 11, 18), (3, 6, 13), (5, 10, 17), (7, 12, 14))


def run_fold(data: str, test_actors: tuple[int, ...], views, y, actor, frames) -> list[tuple]:
    start = time.time()
    train = np.flatnonzero(~np.isin(actor, test_actors))
    print(f"training on {len(np.unique(actor[train]))} actors ({len(train)} clips), testing actors "
          f"{list(test_actors)}", flush=True)
    df = load_ravdess(data)
    truth_of = {c: RAVDESS_TO_CANONICAL[c] for c in CLASSES}
    rows = []
    with tempfile.TemporaryDirectory(prefix="emoreason-voice-") as tmp:
        vm.export([v[train] for v in views], y[train], actor[train], Path(tmp), {},
                  subset_frames(frames, train))
        print(f"model trained in {time.time() - start:.0f} s", flush=True)
        analyzer = VoiceAnalyzer(model_dir=tmp)
        for a in test_actors:
            part = df[df["actor"] == a]
            audios = [ArrayAudio(read_clip(f)) for f in part["file"]]
            truth = [truth_of[e] for e in part["emotion"]]
            t0 = time.time()
            single = [analyzer.analyze(x) for x in audios]
            t1 = time.time()
            grouped = analyzer.analyze_clips(audios)
            t2 = time.time()
            lab = [max(o.scores, key=o.scores.get) if o.usable else "none" for o in single]
            glab = [max(o.scores, key=o.scores.get) if o.usable else "none" for o in grouped]
            gate = next((o.details["speaker_gate"] for o in grouped if o.usable), None)
            path = next((o.details["classifier"] for o in grouped if o.usable), None)
            rows.append((a, uar(truth, lab), uar(truth, glab), path, t1 - t0, t2 - t1, truth, lab, glab))
            print(f"actor {a:2d}: per clip UAR {rows[-1][1]:.3f} ({t1 - t0:.0f} s), all {len(audios)} clips "
                  f"together {rows[-1][2]:.3f} ({t2 - t1:.0f} s; classifier {path}, gate {gate})", flush=True)
    summary(rows, f"actors {list(test_actors)}")
    return rows


def summary(rows: list[tuple], what: str) -> None:
    truth = sum((r[6] for r in rows), [])
    per_clip, together = uar(truth, sum((r[7] for r in rows), [])), uar(truth, sum((r[8] for r in rows), []))
    better = sum(r[2] > r[1] for r in rows)
    print(f"{what} ({len(truth)} clips): per clip UAR {per_clip:.3f}, by speaker {together:.3f}, ratio "
          f"{together / per_clip:.3f}; per-actor means {np.mean([r[1] for r in rows]):.3f} vs "
          f"{np.mean([r[2] for r in rows]):.3f} (by speaker better for {better} of {len(rows)} actors); "
          f"analysis time grouped {sum(r[5] for r in rows):.0f} s vs per clip "
          f"{sum(r[4] for r in rows):.0f} s", flush=True)


def main(data: str, folds: list[tuple[int, ...]]) -> None:
    start = time.time()
    views, _, y, actor = vm.build_matrix(data)
    frames = vm.build_frames(data)
    rows = [r for fold in folds for r in run_fold(data, fold, views, y, actor, frames)]
    if len(folds) > 1:
        summary(rows, f"all {len(folds)} folds")
    print(f"total {time.time() - start:.0f} s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("--test-actors", type=int, nargs="+", default=None, help="one fold (default: 2 9 16)")
    ap.add_argument("--all-folds", action="store_true",
                    help="the six folds of FOLDS: every actor held out once")
    args = ap.parse_args()
    main(args.data, list(FOLDS) if args.all_folds else [tuple(args.test_actors or FOLDS[0])])
