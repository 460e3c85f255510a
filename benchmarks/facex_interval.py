"""How often facex must run in videos: a 'video' of facial_expressions photos, each held for 1 s at 5 fps.

The photos share one framing, so the face box barely moves from one person to the next and facex's last
reading is reused up to the run interval: the worst case for a stale reading. Prints, for facex on every
3rd and every 6th frame, the default face model's per-frame label agreement with facex on every frame, and
each variant's per-frame accuracy against the photos' labels (the old pool, facex on every 3rd, beside).

    .venv/bin/python benchmarks/facex_interval.py --data ../shared/data --photos 120
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from emoreason.io.image import load_image
from emoreason.labels import CANONICAL, FACIAL_EXPRESSIONS
from emoreason.perception.face.analyzer import FaceAnalyzer

FRAMES_PER_PHOTO = 5  # 1 s at 5 fps
SIDE = 350


def frame_labels(out) -> dict[float, str]:
    probs = out.series["probabilities"]
    return dict(zip(probs.index, np.array(CANONICAL)[probs.to_numpy().argmax(1)], strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--photos", type=int, default=120)
    args = ap.parse_args()
    folder = args.data / "facial_expressions"
    with open(folder / "labels.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))[:args.photos]]
    variants = {f"every {n}": FaceAnalyzer(fps=5.0, facex_every=n) for n in (1, 3, 6)}
    variants["old pool, every 3"] = FaceAnalyzer(fps=5.0, face_model="pool")
    truth: dict[float, str | None] = {}
    t = 0.0
    for row in rows:
        rgb = load_image(folder / row["path"])
        if rgb.shape[:2] != (SIDE, SIDE):
            rgb = cv2.resize(np.ascontiguousarray(rgb), (SIDE, SIDE))
        for _ in range(FRAMES_PER_PHOTO):
            for analyzer in variants.values():
                analyzer.add_frame(t, rgb)
            truth[t] = FACIAL_EXPRESSIONS.to_canonical.get(row["emotion"].lower())
            t += 0.2
    outs = {name: a.finish() for name, a in variants.items()}
    labels = {name: frame_labels(out) for name, out in outs.items()}
    common = sorted(set.intersection(*(set(v) for v in labels.values())))
    print(f"{len(rows)} photos, {len(common)} frames with a face in every variant")
    for name in variants:
        agree = np.mean([labels[name][t] == labels["every 1"][t] for t in common])
        scored = [t for t in common if truth[t] is not None]
        acc = np.mean([labels[name][t] == truth[t] for t in scored])
        runs = outs[name].details.get("facex_runs", 0)
        print(f"facex {name:<18} runs {runs:>4}; per-frame label agreement with every 1: {agree:.3f}; "
              f"per-frame accuracy {acc:.3f} ({len(scored)} frames)")


if __name__ == "__main__":
    main()
