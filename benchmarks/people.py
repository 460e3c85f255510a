"""Several people in one clip (issue 17): per-person emotion, who is speaking, the cost of ``people=True``.

Three measurements, each printing its numbers and writing them as JSON (``--out``):

* ``mixtures`` -- per-person emotion on voice-only conversations of two RAVDESS actors held out of the
  diarisation's tuning (actors 9-18; the diarisation was tuned on 1-8), or of two EmoDB speakers
  (``--data ../shared/data/emodb``: German, a corpus neither the voice model nor the diarisation saw).
  In each conversation each speaker says ``--clips`` clips of one emotion (the two emotions differ),
  interleaved A B A B ... with pauses (:func:`emoreason.io.synth_conversation.make_conversation`). Each
  person found is matched to the speaker whose reference turns they hold the most of; their label is
  compared with the speaker's emotion and with the **single-person analysis of the same clips** (that
  speaker's clips alone, concatenated with the same pauses, through ``analyze``). Baseline: the clip's
  one label given to both (what ``analyze`` without ``people`` says of everyone). Modalities: voice only
  (RAVDESS has two neutral sentences: its words carry no emotion). The shipped voice model was trained
  on RAVDESS actors 1-18, so accuracies against RAVDESS actors' emotions are optimistic; the comparison
  with the single-person analysis (same model, same clips) is the fair one, and EmoDB gives held-out
  speakers.
* ``videos`` -- who-is-speaking on synthetic two-person videos (:mod:`emoreason.io.synth_people`: two real
  faces whose mouths open on the conversation's reference turns, side by side or alternating with cuts)
  with the RAVDESS conversation as their sound, through ``analyze(..., people=True)`` (face and voice):
  the share of the drawn people whose face track and voice end up in one Person (association accuracy),
  and the speakers found.
* ``rtf`` -- the seconds per second of media (RTF) of ``analyze`` with and without ``people`` on the
  same synthetic two-person video with sound, 10 s and 30 s (``--durations``), each mode in a fresh
  process after one warm-up run, with its peak RSS.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/people.py mixtures --n 12
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/people.py videos --n 4
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/people.py rtf --durations 10 30
    .venv/bin/python benchmarks/people.py demo two_people.mp4   # the README's two-person example clip
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "ravdess_speech"
HELD_OUT = tuple(range(9, 19))
EMOTIONS = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry", "fearful": "fearful",
            "disgust": "disgusted", "surprised": "surprised",
            # EmoDB's names (boredom has no canonical label and is left out)
            "happiness": "happy", "sadness": "sad", "anger": "angry", "fear": "fearful"}


def ravdess_clips(root: Path) -> dict[tuple[int, str], list[Path]]:
    """(speaker, canonical emotion) -> clips: RAVDESS actors in :data:`HELD_OUT` ('calm' left out), or
    every EmoDB speaker when ``root`` is an EmoDB folder (a ``speaker`` column)."""
    out: dict[tuple[int, str], list[Path]] = {}
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            who = int(row["actor"]) if "actor" in row else int(row["speaker"])
            if ("actor" not in row or who in HELD_OUT) and row["emotion"] in EMOTIONS:
                out.setdefault((who, EMOTIONS[row["emotion"]]), []).append(root / row["path"])
    return {k: sorted(v) for k, v in sorted(out.items())}


def plan(clips: dict, n: int, per_actor: int, seed: int) -> list[dict]:
    """``n`` conversations: two different speakers, two different emotions (each speaker holding at
    least ``per_actor`` clips of theirs), ``per_actor`` clips each."""
    rng = np.random.default_rng(seed)
    emotions = sorted({e for _, e in clips})
    speakers = sorted({s for s, _ in clips})
    out = []
    while len(out) < n:
        k = len(out)
        a, b = (int(x) for x in rng.choice(speakers, size=2, replace=False))
        ea, eb = (str(x) for x in rng.choice(emotions, size=2, replace=False))
        if len(clips.get((a, ea), [])) < per_actor or len(clips.get((b, eb), [])) < per_actor:
            continue
        pick = {who: [str(p) for p in rng.choice(clips[(actor, emo)], size=per_actor, replace=False)]
                for who, actor, emo in (("A", a, ea), ("B", b, eb))}
        out.append({"id": k, "actors": {"A": a, "B": b}, "emotions": {"A": ea, "B": eb}, "clips": pick})
    return out


def owner(turns: list[tuple[float, float]], ref: list[tuple[float, float, str]]) -> str | None:
    """The reference speaker whose turns the person's turns overlap the most."""
    shared: dict[str, float] = {}
    for a, b in turns:
        for ra, rb, who in ref:
            shared[who] = shared.get(who, 0.0) + max(0.0, min(b, rb) - max(a, ra))
    return max(shared, key=shared.get) if shared and max(shared.values()) > 0 else None


def conversation(conv: dict, seed: int):
    from emoreason.io.synth_conversation import make_conversation

    order = [(p, who) for pair in zip(conv["clips"]["A"], conv["clips"]["B"]) for p, who in zip(pair, "AB")]
    return make_conversation(order, seed=seed)


def run_mixtures(args: argparse.Namespace) -> dict:
    import soundfile as sf

    import emoreason
    from emoreason.io.synth_conversation import make_conversation

    convs = plan(ravdess_clips(args.data), args.n, args.clips, args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for conv in convs:
            audio, sr, ref = conversation(conv, conv["id"])
            path = Path(tmp) / f"conv{conv['id']}.wav"
            sf.write(path, audio, sr)
            t0 = time.perf_counter()
            r = emoreason.analyze(str(path), modalities="voice", people=True)
            took = time.perf_counter() - t0
            single = {}
            for who in "AB":
                x, _, _ = make_conversation([(p, who) for p in conv["clips"][who]], seed=conv["id"])
                one = Path(tmp) / f"conv{conv['id']}{who}.wav"
                sf.write(one, x, sr)
                single[who] = emoreason.analyze(str(one), modalities="voice").label
            people = {}
            for p in r.people:
                who = owner(p.turns, ref)
                if who is not None and who not in people:
                    people[who] = p.label
            row = {"id": conv["id"], "actors": conv["actors"], "truth": conv["emotions"], "single": single,
                   "people": people, "clip": r.label, "n_speakers": len(r.people), "seconds": len(audio) / sr,
                   "analyse_s": round(took, 2)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return {"rows": rows, "summary": summarise_mixtures(rows)}


def summarise_mixtures(rows: list[dict]) -> dict:
    n = 2 * len(rows)
    per_person = sum(r["people"].get(w) == r["truth"][w] for r in rows for w in "AB")
    single = sum(r["single"][w] == r["truth"][w] for r in rows for w in "AB")
    agree = sum(r["people"].get(w) == r["single"][w] for r in rows for w in "AB")
    clip_for_all = sum(r["clip"] == r["truth"][w] for r in rows for w in "AB")
    return {"people": n, "conversations": len(rows),
            "per_person_accuracy": per_person / n, "single_person_accuracy": single / n,
            "per_person_agrees_with_single": agree / n, "clip_label_for_everyone_accuracy": clip_for_all / n,
            "speaker_count_correct": sum(r["n_speakers"] == 2 for r in rows) / len(rows),
            "actors_found": sum(len(r["people"]) for r in rows) / n}


def run_videos(args: argparse.Namespace) -> dict:
    from emoreason.api import run_perception
    from emoreason.io.synth import write_media
    from emoreason.io.synth_people import make_people_video
    from emoreason.pipeline.people_result import build_people
    from emoreason.pipeline.result import build_result

    convs = plan(ravdess_clips(args.data), args.n, args.clips, args.seed + 100)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for conv in convs:
            audio, sr, ref = conversation(conv, conv["id"])
            layout = "side_by_side" if conv["id"] % 2 == 0 else "alternating"
            turns = [(a, b, 0 if who == "A" else 1) for a, b, who in ref]
            video = make_people_video(None, turns=turns, seconds=len(audio) / sr, fps=5, layout=layout)
            path = Path(tmp) / f"video{conv['id']}.mp4"
            write_media(path, video.frames(), fps=5, audio=audio, sample_rate=sr)
            p = run_perception(str(path), modalities="face,voice", people=True)
            people = build_people(p, build_result)
            drawn = {t.track_id: drawn_person(t, video) for t in p.people_faces.tracks}
            correct, detail = 0, []
            for k, who in enumerate("AB"):
                person = next((x for x in people if x.voice is not None and owner(x.turns, ref) == who), None)
                ok = person is not None and person.face_track is not None and drawn[person.face_track] == k
                correct += ok
                detail.append({"who": who, "voice_found": person is not None, "face_paired": ok,
                               "score": None if person is None else person.association})
            row = {"id": conv["id"], "layout": layout, "people": len(people), "tracks": len(drawn),
                   "voices": int(p.people_voices.diarization.n_speakers), "correct": correct,
                   "detail": detail}
            rows.append(row)
            print(json.dumps(row), flush=True)
    total = 2 * len(rows)
    return {"rows": rows, "summary": {"videos": len(rows), "association_accuracy":
                                      sum(r["correct"] for r in rows) / total,
                                      "two_tracks": sum(r["tracks"] == 2 for r in rows) / len(rows),
                                      "two_voices": sum(r["voices"] == 2 for r in rows) / len(rows),
                                      "two_people": sum(r["people"] == 2 for r in rows) / len(rows)}}


def drawn_person(track, video) -> int:
    """The drawn person whose true face box the track's boxes overlap (IoU > 0.3) on most frames."""
    votes = np.zeros(len(video.faces))
    for t, box in zip(track.times, track.boxes):
        i = int(np.argmin(np.abs(video.times - t)))
        for k in range(len(video.faces)):
            truth = video.truth.boxes[k, i]
            if not np.isnan(truth).any():
                w = max(0.0, min(box[2], truth[2]) - max(box[0], truth[0]))
                h = max(0.0, min(box[3], truth[3]) - max(box[1], truth[1]))
                union = ((box[2] - box[0]) * (box[3] - box[1]) + (truth[2] - truth[0]) * (truth[3] - truth[1])
                         - w * h)
                votes[k] += w * h / union > 0.3
    return int(votes.argmax())


CHILD = """
import json, resource, sys, time
import emoreason
path, seconds, people = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1"
emoreason.analyze(path, people=people)  # warm: models loaded, caches filled
t0 = time.perf_counter()
r = emoreason.analyze(path, people=people)
took = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "people": people, "wall_s": took, "rtf": took / seconds,
                  "timings": r.provenance["timings"], "n_people": len(r.people),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_rtf(args: argparse.Namespace) -> dict:
    from emoreason.io.synth import write_media
    from emoreason.io.synth_people import make_people_video

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in args.durations:
            conv = plan(ravdess_clips(args.data), 1, args.clips, args.seed + int(seconds))[0]
            audio, sr, ref = conversation(conv, 0)
            period = len(audio) / sr  # the conversation repeated to fill the clip
            audio = np.tile(audio, int(np.ceil(seconds * sr / len(audio))))[: int(seconds * sr)]
            turns = [(a + k * period, min(b + k * period, seconds), 0 if who == "A" else 1)
                     for k in range(int(seconds / period) + 1) for a, b, who in ref
                     if a + k * period < seconds]
            video = make_people_video(None, turns=turns, seconds=seconds, fps=5, layout="side_by_side")
            path = Path(tmp) / f"clip{seconds}.mp4"
            write_media(path, video.frames(), fps=5, audio=audio, sample_rate=sr)
            for people in (False, True):
                out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(seconds), str(int(people))],
                                     capture_output=True, text=True, check=True)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = {}
    for seconds in args.durations:
        base = next(r for r in rows if r["seconds"] == seconds and not r["people"])
        ppl = next(r for r in rows if r["seconds"] == seconds and r["people"])
        summary[f"{seconds:g}s"] = {"rtf_without": base["rtf"], "rtf_people": ppl["rtf"],
                                    "ratio": ppl["rtf"] / base["rtf"], "rss_without_mb": base["peak_rss_mb"],
                                    "rss_people_mb": ppl["peak_rss_mb"]}
    return {"rows": rows, "summary": summary}


DEMO_LINES = [("I cannot believe you did that to me, this is terrible.", "A"),
              ("Oh come on, it was only a joke, relax a little.", "B"),
              ("No, I am really upset about it, really.", "A"),
              ("Fine, I am sorry, I did not mean to hurt you.", "B")]


def make_demo(path: Path, layout: str = "side_by_side") -> Path:
    """A two-person demo clip: the synthetic two-face video whose mouths move on the turns of a
    conversation of two espeak-ng voices (a male and a female variant), with that conversation as sound."""
    from emoreason.io.demo_clip import speak
    from emoreason.io.synth import write_media
    from emoreason.io.synth_conversation import make_conversation
    from emoreason.io.synth_people import make_people_video

    voices = {"A": {"voice": "en-us"}, "B": {"voice": "en-us+f3", "speed": 150}}
    audio, sr, ref = make_conversation([(speak(t, **voices[w]), w) for t, w in DEMO_LINES], seed=0)
    turns = [(a, b, 0 if who == "A" else 1) for a, b, who in ref]
    video = make_people_video(None, turns=turns, seconds=len(audio) / sr, fps=5, layout=layout)
    return write_media(path, video.frames(), fps=5, audio=audio, sample_rate=sr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("mixtures", "videos", "rtf", "demo"))
    parser.add_argument("path", nargs="?", type=Path, help="demo: the clip to write (.mp4)")
    parser.add_argument("--data", type=Path, default=DATA, help="RAVDESS speech folder (its labels.csv)")
    parser.add_argument("--n", type=int, default=12, help="conversations or videos")
    parser.add_argument("--clips", type=int, default=3, help="clips per actor per conversation")
    parser.add_argument("--durations", type=float, nargs="+", default=[10.0, 30.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the numbers here (JSON)")
    args = parser.parse_args(argv)
    if args.what == "demo":
        print(f"wrote {make_demo(args.path or Path('two_people.mp4'))}")
        return 0
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    result = {"mixtures": run_mixtures, "videos": run_videos, "rtf": run_rtf}[args.what](args)
    result.update(what=args.what, started=started, argv=sys.argv[1:])
    print(json.dumps(result["summary"], indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
