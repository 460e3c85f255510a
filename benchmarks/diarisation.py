"""Speaker diarisation on synthetic RAVDESS conversations (issue 17), against two baselines, in one run.

Each conversation (``io.synth_conversation``): 2-4 actors drawn from ``--actors`` (default 9-18, held
out: ``diarize``'s settings were tuned on actors 1-8 only), 8-16 turns in a random order, pauses of
0.3-1.2 s, a 15 % chance per speaker change that the next turn starts 0.2-0.8 s before the previous one
ends, white noise at an SNR of 10, 20 or 30 dB or none (drawn per conversation), all from ``--seed``.
The VAD runs once per conversation; every system scores on those speech segments:

- ``one speaker``: every speech segment is speaker 0;
- ``k-means MFCC``: each speech segment's mean of 20 MFCCs (standardised), k-means with the k of best
  silhouette in 2..6 (one speaker when no k reaches a silhouette of 0.1); ``(oracle k)``: given the true k;
- ``diarize``: :func:`perception.speech.diarize.diarize`, the number of speakers estimated; ``(oracle k)``:
  ``n_speakers`` given.

``--monologues`` one-speaker recordings (8-16 clips of one held-out actor, same settings) are scored
apart: what diarisation does to the common single-person clip.

Printed per system: DER (collar 0 and 0.25 s, pooled over conversations), its parts at collar 0
(missed, false alarm, confusion), speaker-count accuracy and RTF (seconds of compute per second of audio,
the VAD's time included for every system). Single-threaded numpy is advised (``OMP_NUM_THREADS=1``).

    python benchmarks/diarisation.py --data ../shared/data/ravdess_speech [--n 30] [--actors 9-18]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from emoreason.eval.diarisation import DerScore, count_accuracy, der, total_der
from emoreason.io.audio import ArrayAudio
from emoreason.io.synth_conversation import make_conversation, overlap_seconds, plan_turns, ravdess_by_actor
from emoreason.perception.speech import diarize as diarisation_module
from emoreason.perception.speech.diarize import diarize
from emoreason.perception.speech.vad import detect_speech

ROOT = Path(__file__).resolve().parents[1]
SNRS = (10.0, 20.0, 30.0, None)


def actor_range(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def conversations(root: Path, actors: list[int], n: int, seed: int, speakers: tuple[int, int] = (2, 4)):
    by_actor = ravdess_by_actor(root, actors)
    for i in range(n):
        rng = np.random.default_rng(seed + i)
        k = int(rng.integers(speakers[0], speakers[1] + 1))
        chosen = [int(a) for a in rng.choice(list(by_actor), k, replace=False)]
        clips = plan_turns({a: by_actor[a] for a in chosen}, int(rng.integers(8, 17)), seed=seed + i)
        snr = SNRS[int(rng.integers(len(SNRS)))]
        audio, sr, ref = make_conversation(clips, overlap_prob=0.15, snr_db=snr, seed=seed + i)
        yield audio, sr, ref, k, snr


def mfcc_kmeans(audio: np.ndarray, sr: int, speech: list[tuple[float, float]], k: int | None):
    """Turns and speaker count from k-means on per-segment MFCC means (the baseline)."""
    import librosa
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    feats = []
    for a, b in speech:
        x = audio[int(a * sr):int(b * sr)]
        feats.append(librosa.feature.mfcc(y=x, sr=sr, n_mfcc=20).mean(axis=1))
    X = np.array(feats)
    X = (X - X.mean(0)) / (X.std(0) + 1e-9)
    if len(X) < 2:
        return [(a, b, 0) for a, b in speech], 1
    if k is None:
        best, k = 0.1, 1
        for kk in range(2, min(6, len(X) - 1) + 1):
            lab = KMeans(kk, n_init=10, random_state=0).fit_predict(X)
            s = silhouette_score(X, lab)
            if s > best:
                best, k = s, kk
    labels = np.zeros(len(X), int) if k == 1 else KMeans(min(k, len(X)), n_init=10,
                                                         random_state=0).fit_predict(X)
    return [(a, b, int(c)) for (a, b), c in zip(speech, labels)], len(set(labels.tolist()))


def long_run(root: Path, actors: list[int], minutes: float, seed: int) -> dict:
    """RTF of diarize (VAD included) on one ``minutes``-long conversation of 4 actors, and the peak of
    memory numpy and Python allocate during a second, traced run."""
    import tracemalloc

    by_actor = ravdess_by_actor(root, actors[:4])
    clips = plan_turns(by_actor, max(8, int(minutes * 60 / 2.6)), seed=seed)
    audio, sr, _ = make_conversation(clips, overlap_prob=0.15, snr_db=20.0, seed=seed)
    diarize(audio[: 5 * sr], sr)  # warm: weights loaded, librosa's first call
    t0 = time.perf_counter()
    d = diarize(audio, sr)
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    diarize(audio, sr)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    row = {"audio_s": len(audio) / sr, "seconds": seconds, "rtf": seconds / (len(audio) / sr),
           "peak_mib": peak / 2**20, "audio_mib": audio.nbytes / 2**20, "speakers": d.n_speakers}
    print(f"long conversation, {row['audio_s']:.0f} s: diarize {seconds:.1f} s (RTF {row['rtf']:.4f}), "
          f"peak traced memory {row['peak_mib']:.1f} MiB (the audio itself {row['audio_mib']:.1f} MiB), "
          f"{d.n_speakers} speakers found (4 true)")
    return row


NAMES = ["one speaker", "k-means MFCC", "k-means MFCC (oracle k)", "diarize", "diarize (oracle k)"]


def score(recordings, title: str, args, names: list[str]) -> dict:
    """Every system in ``names`` on ``recordings``; prints a table and returns its rows."""
    scores: dict[str, list[tuple[DerScore, DerScore]]] = {n: [] for n in names}
    counts: dict[str, list[int]] = {n: [] for n in names}
    seconds = {n: 0.0 for n in names}
    truth: list[int] = []
    audio_s = overlap_s = speech_s = 0.0
    for audio, sr, ref, k, _snr in recordings:
        truth.append(k)
        audio_s += len(audio) / sr
        overlap_s += overlap_seconds(ref)
        speech_s += sum(b - a for a, b, _ in ref)
        t0 = time.perf_counter()
        speech = detect_speech(ArrayAudio(audio, sr))
        vad_s = time.perf_counter() - t0
        for name in names:
            t0 = time.perf_counter()
            if name == "one speaker":
                hyp, found = [(a, b, 0) for a, b in speech], 1
            elif name.startswith("k-means"):
                hyp, found = mfcc_kmeans(audio, sr, speech, k if "oracle" in name else None)
            elif name.startswith("diarize (cut"):
                old = diarisation_module.THRESHOLD
                diarisation_module.THRESHOLD = float(name.split()[-1].rstrip(")"))
                try:
                    d = diarize(audio, sr, speech=speech)
                finally:
                    diarisation_module.THRESHOLD = old
                hyp, found = [(t.start, t.end, t.speaker) for t in d.turns], d.n_speakers
            else:
                d = diarize(audio, sr, speech=speech, n_speakers=k if "oracle" in name else None)
                hyp, found = [(t.start, t.end, t.speaker) for t in d.turns], d.n_speakers
            seconds[name] += time.perf_counter() - t0 + vad_s
            scores[name].append((der(ref, hyp), der(ref, hyp, collar=0.25)))
            counts[name].append(found)
    print(f"{title}: {len(truth)}, actors {args.actors}, {audio_s:.0f} s of audio, {speech_s:.0f} s of "
          f"reference speech, {overlap_s:.1f} s overlapped ({100 * overlap_s / speech_s:.1f} %); "
          f"speakers per recording: " + ", ".join(f"{c}: {truth.count(c)}" for c in sorted(set(truth))))
    print(f"{'system':26} {'DER':>6} {'DER c.25':>8} {'missed':>7} {'FA':>6} {'conf':>6} "
          f"{'count':>6} {'RTF':>7}")
    out = {}
    for name in names:
        s0 = [a for a, _ in scores[name]]
        parts = [sum(getattr(s, f) for s in s0) / sum(s.scored for s in s0)
                 for f in ("missed", "false_alarm", "confusion")]
        row = {"der": total_der(s0), "der_collar_0.25": total_der([b for _, b in scores[name]]),
               "missed": parts[0], "false_alarm": parts[1], "confusion": parts[2],
               "count_accuracy": count_accuracy(truth, counts[name]), "rtf": seconds[name] / audio_s,
               "counts": [[t, f] for t, f in zip(truth, counts[name])]}
        out[name] = row
        print(f"{name:26} {row['der']:6.3f} {row['der_collar_0.25']:8.3f} {parts[0]:7.3f} {parts[1]:6.3f} "
              f"{parts[2]:6.3f} {row['count_accuracy']:6.2f} {row['rtf']:7.4f}")
    print()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "ravdess_speech")
    p.add_argument("--actors", default="9-18")
    p.add_argument("--n", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--monologues", type=int, default=10, help="one-speaker recordings scored apart")
    p.add_argument("--thresholds", default="", help="also score diarize cut at these distances, e.g. "
                   "0.3,0.35,0.4,0.45 (how THRESHOLD was chosen, on --actors 1-8)")
    p.add_argument("--long", default="", help="minutes of long conversations to time, e.g. 1,10")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    actors = actor_range(args.actors)
    thresholds = [float(t) for t in args.thresholds.split(",") if t]
    names = NAMES + [f"diarize (cut {t:g})" for t in thresholds]
    out = {}
    if args.n:
        out["conversations"] = score(conversations(args.data, actors, args.n, args.seed), "conversations",
                                     args, names)
    if args.monologues:
        alone = conversations(args.data, actors, args.monologues, args.seed + 10_000, (1, 1))
        out["monologues"] = score(alone, "one-speaker recordings", args, names)
    for minutes in [float(m) for m in args.long.split(",") if m]:
        out[f"long {minutes:g} min"] = long_run(args.data, actors, minutes, args.seed)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
