"""Face tracks on synthetic two-person videos: purity, id switches, re-identification after cuts, mouth
schedules, against an IoU-only tracker (no cuts, no appearance) on the same faces; then the cost per frame
of the multi-face path against the single main-face path, in the same run; and the single-face path
before/after the refactor; optionally dlib's distances within and across people.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/face_tracks.py --pairs 5 [--before 9c50ce5]

Pairs: the default pair (scikit-image's astronaut and LFW face, :func:`synth_people.default_faces`) and
``--pairs`` pairs of people from ``../shared/data/facial_expressions`` (LFW-style photos; people with two or
more photos; after a cut a person comes back in their *second* photo, so re-identification is across
photos, not of the same pixels). Variants per pair: side by side (faces 320 px tiles), side by side at half
size, shifted off-centre, side by side with a dark bar hiding the left person for 1.6 s (longer than the
tracker's 1 s gap), and alternating one-person shots with hard cuts at every turn.

Ground truth: each observation belongs to the person whose true box centre is nearest (within 0.1 of the
frame). Purity: the share of a track's observations of its majority person (pooled over tracks). Id
switches: per person, the number of times the track holding them changes between consecutive sightings.
Re-ID: the share of a person's returns (first sighting after a cut or a hidden stretch) that got the id they
had before. Coverage: sightings / frames where the person is on screen (bar frames not counted).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from emoreason.io.synth_people import TILE, default_faces, make_people_video
from emoreason.perception.face.analyzer import FaceAnalyzer
from emoreason.perception.face.identity import face_embedding
from emoreason.perception.face.mesh import FaceMeshTracker
from emoreason.perception.face.tracks import FaceFinder, FaceTrackBuilder, MultiFaceAnalyzer

HERE = Path(__file__).resolve().parent
FACES = HERE.parent.parent / "shared" / "data" / "facial_expressions" / "images"
VARIANTS = {"side_by_side": {}, "half_size": {"scale": 0.5}, "shifted": {"shift": 0.8},
            "bar_1.6s": {"occlude": (2.0, 3.6)}, "alternating": {"layout": "alternating"}}


def photo_pairs(n: int) -> list[tuple[str, list[np.ndarray]]]:
    """``n`` pairs of people (two photos each) from facial_expressions, each photo (350 px, the face filling
    it) shrunk to 220 px on a TILE px grey tile."""
    by_name = collections.defaultdict(list)
    for p in sorted(FACES.glob("*.jpg")):
        by_name[p.stem.rsplit("_", 1)[0]].append(p)
    people = [paths[:2] for _, paths in sorted(by_name.items()) if len(paths) >= 2]
    rng = np.random.default_rng(0)
    picked = [people[i] for i in rng.choice(len(people), size=min(2 * n, len(people)), replace=False)]

    def tile(path):
        photo = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        photo = cv2.resize(photo, (220, 220), interpolation=cv2.INTER_AREA)
        grey = np.full((TILE, TILE), 90, np.uint8)
        grey[40:260, 50:270] = photo  # room below the chin for the opened mouth
        return np.stack([grey] * 3, axis=-1)

    return [(f"{picked[2 * i][0].stem[:-5]} + {picked[2 * i + 1][0].stem[:-5]}",
             [[tile(p) for p in picked[2 * i]], [tile(p) for p in picked[2 * i + 1]]]) for i in range(n)]


def ours(video):
    """Our tracks, and each frame's faces as the multi-face path found them (FaceFinder)."""
    builder = FaceTrackBuilder()
    finder = FaceFinder(builder)
    found = []
    for i, frame in enumerate(video.frames()):
        faces, cut = finder.find(video.times[i], frame)
        builder.add(video.times[i], frame, faces, cut=cut)
        found.append(faces)
    finder.close()
    return builder.finish(), found


def iou_only(video, found):
    """The same faces tracked by IoU alone: no embeddings, no cuts."""
    builder = FaceTrackBuilder(embedder=lambda rgb, face: None)
    for i, frame in enumerate(video.frames()):
        builder.add(video.times[i], frame, found[i], cut=False)
    return builder.finish()


def person_of(tr, truth) -> np.ndarray:
    idx = np.searchsorted(truth.times, tr.times - 1e-9)
    centre = (tr.boxes[:, :2] + tr.boxes[:, 2:]) / 2
    true_centre = (truth.boxes[:, idx, :2] + truth.boxes[:, idx, 2:]) / 2
    d = np.linalg.norm(np.nan_to_num(true_centre - centre, nan=9.0), axis=2)
    return np.where(d.min(axis=0) < 0.1, d.argmin(axis=0), -1)


def scores(video, tracks) -> dict:
    truth = video.truth
    n_people, n = truth.boxes.shape[:2]
    holder = np.full((n_people, n), -1)
    pure = total = 0
    mouth = []
    for tr in tracks:
        who = person_of(tr, truth)
        idx = np.searchsorted(truth.times, tr.times - 1e-9)
        for w, i in zip(who, idx, strict=True):
            if w >= 0:
                holder[w, i] = tr.track_id
        counts = collections.Counter(who.tolist())
        pure, total = pure + counts.most_common(1)[0][1], total + len(who)
        major = counts.most_common(1)[0][0]
        if major >= 0 and len(tr.times) >= 5 and truth.mouth[major, idx].std() > 0:
            mouth.append(float(np.corrcoef(tr.mouth_open, truth.mouth[major, idx])[0, 1]))
    hidden = np.zeros(n, bool) if truth.occluded is None else \
        (truth.times >= truth.occluded[0]) & (truth.times < truth.occluded[1])
    on_screen = ~np.isnan(truth.boxes[:, :, 0])
    on_screen[0] &= ~hidden  # the bar hides the left person
    switches = returns = reid = 0
    for p in range(n_people):
        seen = np.nonzero(holder[p] >= 0)[0]
        ids = holder[p, seen]
        switches += int((ids[1:] != ids[:-1]).sum())
        for a, b in zip(seen[:-1], seen[1:], strict=True):
            if b - a > 1 or any(video.times[a] < c <= video.times[b] for c in truth.cuts):
                returns += 1
                reid += int(holder[p, a] == holder[p, b])
    return {"tracks": len(tracks), "people": n_people, "purity": pure / max(total, 1), "switches": switches,
            "returns": returns, "reid": reid, "coverage": float((holder >= 0).sum() / on_screen.sum()),
            "mouth_r": float(np.mean(mouth)) if mouth else float("nan")}


def tracking(pairs, seconds: float, fps: int) -> None:
    rows = collections.defaultdict(lambda: collections.defaultdict(list))
    for name, faces in pairs:
        for variant, opts in VARIANTS.items():
            video = make_people_video(faces=faces, seconds=seconds, fps=fps, **opts)
            tracks, found = ours(video)
            got = {"ours": scores(video, tracks), "iou_only": scores(video, iou_only(video, found))}
            print(f"{name[:40]:40s} {variant:13s} ours {json.dumps(got['ours'])}", flush=True)
            print(f"{'':54s} iou-only {json.dumps(got['iou_only'])}", flush=True)
            for system, s in got.items():
                for k, v in s.items():
                    rows[(variant, system)][k].append(v)
    print(f"\n{len(pairs)} pairs, {seconds:g} s at {fps} fps each; totals (purity, coverage, mouth_r: means)")
    print(f"{'variant':13s} {'system':9s} tracks/people purity switches re-ID  coverage mouth_r")
    for (variant, system), r in rows.items():
        print(f"{variant:13s} {system:9s} {sum(r['tracks']):3d}/{sum(r['people']):<9d} "
              f"{np.mean(r['purity']):.3f}  {sum(r['switches']):5d}    {sum(r['reid'])}/{sum(r['returns'])}  "
              f"{np.mean(r['coverage']):.3f}    {np.nanmean(r['mouth_r']):.2f}")


def cost(seconds: float, fps: int) -> None:
    """ms per frame: single main-face FaceAnalyzer vs MultiFaceAnalyzer, on a one-person and a two-person
    video, interleaved frame by frame so that load changes hit both, after a warm-up analyzer has loaded
    everything once; and one dlib embedding."""
    faces = default_faces()
    warm = make_people_video(faces=faces, seconds=1, fps=fps)
    t0 = time.perf_counter()
    first = MultiFaceAnalyzer(fps=fps)
    for i, frame in enumerate(warm.frames()):
        first.add_frame(warm.times[i], frame)
    first.finish()
    print(f"first multi-face analyzer of the process on a 1 s clip: {time.perf_counter() - t0:.2f} s "
          "(loads mediapipe graphs, the expression models, scipy, dlib)")
    for label, video in (("one person", make_people_video(faces=faces[:1], seconds=seconds, fps=fps)),
                         ("two people", make_people_video(faces=faces, seconds=seconds, fps=fps))):
        frames = list(video.frames())
        single, multi = FaceAnalyzer(fps=fps), MultiFaceAnalyzer(fps=fps)
        spent = {"single": 0.0, "multi": 0.0}
        for i, frame in enumerate(frames):
            for key, an in (("single", single), ("multi", multi)):
                t0 = time.perf_counter()
                an.add_frame(video.times[i], frame)
                spent[key] += time.perf_counter() - t0
        single.finish()
        tracks, _ = multi.finish()
        ms = {k: 1000 * v / len(frames) for k, v in spent.items()}
        print(f"{label}: single main-face {ms['single']:.1f} ms/frame, multi-face {ms['multi']:.1f} ms/frame "
              f"(x{ms['multi'] / ms['single']:.2f}); {len(tracks)} tracks, "
              f"{multi.builder.embeddings_computed} embeddings in {len(frames)} frames")
    frame = make_people_video(faces=faces[:1], seconds=1, fps=1).frame(0)
    with FaceMeshTracker(static=True) as mesh:
        face = mesh.faces(frame)[0]
    face_embedding(frame, face)
    t0 = time.perf_counter()
    for _ in range(10):
        face_embedding(frame, face)
    print(f"one dlib embedding (5-point alignment + ResNet): {100 * (time.perf_counter() - t0):.1f} ms")


def cut_stats(pairs, seconds: float, fps: int) -> None:
    """What the cut test and the patch check see: between consecutive frames of one shot vs across a cut
    (alternating shots) or the bar appearing/leaving, the thumbnail and histogram differences
    (FaceTrackBuilder.is_cut's two measures); the face patch correlation of each face with the nearest
    face of the previous frame; and a frame shifted by 6 px (a pan)."""
    from emoreason.perception.face.track_builder import _patch

    def measures(a, b):
        ga, gb = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (a, b))
        ta, tb = (cv2.resize(g, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32) for g in (ga, gb))
        ha, hb = (cv2.calcHist([g], [0], None, [32], [0, 256]).ravel() for g in (ga, gb))
        return float(np.abs(ta - tb).mean()), 0.5 * float(np.abs(ha / ha.sum() - hb / hb.sum()).sum())

    frame_d = {"same shot": [], "cut or bar": []}
    ncc = {"same shot": [], "cut or bar": []}  # "cut or bar": only across cuts (alternating shots)
    for _, faces in pairs:
        for opts in ({"layout": "alternating"}, {"occlude": (2.0, 3.6)}):
            video = make_people_video(faces=faces, seconds=seconds, fps=fps, **opts)
            changes = set(video.truth.cuts) | set(video.truth.occluded or ())
            prev, prev_faces = None, []
            with FaceMeshTracker(max_faces=4) as mesh:
                for i, frame in enumerate(video.frames()):
                    found = [(f.box, _patch(frame, f.box)) for f in mesh.faces(frame)]
                    if prev is not None:
                        t = video.times[i]
                        kind = "cut or bar" if any(abs(t - c) < 1e-6 for c in changes) else "same shot"
                        frame_d[kind].append(measures(prev, frame))
                        bar = kind == "cut or bar" and not any(abs(t - c) < 1e-6 for c in video.truth.cuts)
                        for box, p in found if not bar else ():  # the bar: faces vanish, nothing to compare
                            if prev_faces and p is not None:
                                j = min(range(len(prev_faces)),
                                        key=lambda k: np.abs(np.subtract(prev_faces[k][0], box)).sum())
                                if prev_faces[j][1] is not None:
                                    ncc[kind].append(float(p @ prev_faces[j][1]))
                    prev, prev_faces = frame, found
    for kind, d in frame_d.items():
        d = np.array(d)
        print(f"cut test, {kind}: {len(d)} frame pairs, thumbnail diff {d[:, 0].min():.1f}-"
              f"{d[:, 0].max():.1f} grey levels, histogram {d[:, 1].min():.3f}-{d[:, 1].max():.3f}")
    for kind, v in ncc.items():
        v = np.array(v)
        print(f"face patch correlation, {kind}: {len(v)} faces, 1st pct {np.percentile(v, 1):.3f}, "
              f"min {v.min():.3f}, max {v.max():.3f}")
    still = default_faces()[0]
    print("a frame shifted by 6 px: thumbnail diff {:.1f}, histogram {:.3f}".format(
        *measures(still, np.ascontiguousarray(np.roll(still, 6, axis=1)))))


def identity_distances(n_people: int) -> None:
    """dlib distances between photos of the same person and of different people (facial_expressions:
    the first ``n_people`` people with two or more photos, up to 3 photos each), and the share of each
    under thresholds around dlib's 0.6."""
    import itertools

    by_name = collections.defaultdict(list)
    for p in sorted(FACES.glob("*.jpg")):
        by_name[p.stem.rsplit("_", 1)[0]].append(p)
    people = [(name, paths[:3]) for name, paths in sorted(by_name.items()) if len(paths) >= 2][:n_people]
    embs = []
    with FaceMeshTracker(static=True) as mesh:
        for name, paths in people:
            for path in paths:
                rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
                found = mesh.faces(rgb)
                if len(found) == 1 and (e := face_embedding(rgb, found[0])) is not None:
                    embs.append((name, e))
    same, diff = [], []
    for (na, ea), (nb, eb) in itertools.combinations(embs, 2):
        (same if na == nb else diff).append(float(np.linalg.norm(ea - eb)))
    same, diff = np.array(same), np.array(diff)
    print(f"identity: {len(embs)} photos of {len(people)} people; same person {len(same)} pairs, distance "
          f"median {np.median(same):.3f} (95th pct {np.percentile(same, 95):.3f}); "
          f"different {len(diff)} pairs, "
          f"median {np.median(diff):.3f} (5th pct {np.percentile(diff, 5):.3f})")
    for thr in (0.5, 0.55, 0.6, 0.65):
        print(f"  threshold {thr}: same-person pairs under it {np.mean(same < thr):.3f}, "
              f"different-people pairs under it {np.mean(diff < thr):.4f}")


SINGLE = """
import hashlib, json, sys
import numpy as np
from emoreason.perception.face.analyzer import FaceAnalyzer
frames = np.load(sys.argv[1])
an = FaceAnalyzer(fps=5)
for i, frame in enumerate(frames):
    an.add_frame(i / 5, frame)
out = an.finish()
blob = json.dumps([out.scores, out.details, out.reliability, [repr(e) for e in out.evidence],
                   {k: v.to_numpy().tolist() for k, v in out.series.items()}], sort_keys=True, default=str)
print(hashlib.sha256(blob.encode()).hexdigest(), out.details["frames_with_face"])
"""


def single_before_after(ref: str) -> None:
    """The single main-face path's output on a two-person video (4 s, 5 fps) hashed at git ref ``ref`` and
    in this tree, each run in a fresh interpreter."""
    import tempfile

    sys.path.insert(0, str(HERE))
    from code_at import code_at

    video = make_people_video(seconds=4, fps=5)
    got = {}
    with tempfile.TemporaryDirectory() as tmp, code_at(ref) as old_src:
        frames = Path(tmp) / "frames.npy"
        np.save(frames, np.stack(list(video.frames())))
        for label, src in (("before", old_src), ("after", HERE.parent / "src")):
            env = dict(os.environ, PYTHONPATH=str(src))
            res = subprocess.run([sys.executable, "-c", SINGLE, str(frames)], capture_output=True, text=True,
                                 env=env, check=True)
            got[label] = res.stdout.split()
    same = got["before"][0] == got["after"][0]
    print(f"single main-face path at {ref} vs this tree (two-person video, {got['after'][1]} face frames): "
          f"output sha256 {got['before'][0][:16]} vs {got['after'][0][:16]}: "
          f"{'identical' if same else 'DIFFERENT'}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5, help="facial_expressions pairs besides the default pair")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--fps", type=int, default=5)
    ap.add_argument("--before", default=None, help="git ref for the single-path before/after check")
    ap.add_argument("--skip-tracking", action="store_true")
    ap.add_argument("--cut-stats", action="store_true", help="what the cut test and the patch check see")
    ap.add_argument("--identity", type=int, default=0, help="people for the identity distances (0: skip)")
    args = ap.parse_args()
    print(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "threads", os.environ.get("OMP_NUM_THREADS"))
    if args.before:
        single_before_after(args.before)
    if args.identity and FACES.is_dir():
        identity_distances(args.identity)
    pairs = [("astronaut + lfw_subset[7]", default_faces())]
    if args.pairs and FACES.is_dir():
        pairs += photo_pairs(args.pairs)
    if args.cut_stats:
        cut_stats(pairs, args.seconds, args.fps)
    if not args.skip_tracking:
        tracking(pairs, args.seconds, args.fps)
    cost(args.seconds, args.fps)


if __name__ == "__main__":
    main()
