"""The voice model through other recording channels: a telephone line, a room, pink noise, a recording 20 dB
quieter (``emoreason.training.voice.channels``). Another corpus differs from RAVDESS's studio in these ways
(and in language and speakers, which this cannot test).

Grouped by actor like the card's cross-validation (6 folds, one seed): the recipe (the population regression
on its training views, the frame network, their blend) is trained on 5/6 of the actors and tested on the
held-out actors' clips, as recorded and through each channel, one view each (no test-time speed views, so
the clean row is below the card's). The clean row is the baseline; ``ratio`` is each channel's UAR over it.
The shipped recipe trains on a random band-pass and a random synthetic room among its views:
the telephone and reverb channels are of the same families (other cut-offs, mu-law coding, another room),
so their rows flatter it; pink noise and the level change are not trained on (white noise is).

    .venv/bin/python benchmarks/voice_channels.py ../shared/data [SEED] [--recipe unlevelled] \
        [--train-also AUG ...]

``--recipe unlevelled``: the cross-validation's comparison inputs instead (each segment's level as recorded,
8 training views: ``UNLEVELLED_VIEWS``, no band-pass or room views; the model card's "version 5" row).
``--train-also`` adds training views (``emoreason.training.voice.features._augment``'s names).

Extracts (and caches with the training features) each channel's features on first use: about 3 minutes a
channel on one core.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from emoreason.eval.metrics import uar
from emoreason.perception.voice.classifier import logistic_proba
from emoreason.training.voice import frames as vf
from emoreason.training.voice import model as vm
from emoreason.training.voice.crossval import FOLDS, UNLEVELLED_VIEWS
from emoreason.training.voice.features import CHANNEL_SUFFIXES, CHANNELS, LEVEL_DB
from emoreason.training.voice.recipe import AUGMENTATIONS, CLASSES, blend, fit_population


def main(data: str, seed: int, recipe: str, train_also: list[str]) -> None:
    start = time.time()
    level = LEVEL_DB if recipe == "shipped" else None
    suffixes = None if recipe == "shipped" else UNLEVELLED_VIEWS
    suffixes = (*(suffixes or ("", *(f"_{a}" for a in AUGMENTATIONS))), *(f"_{a}" for a in train_also))
    views, _, y, actor = vm.build_matrix(data, suffixes=suffixes, level_db=level)
    frames = vm.build_frames(data, suffixes=suffixes, level_db=level)
    channel_views = vm.build_matrix(data, suffixes=CHANNEL_SUFFIXES, level_db=level)[0]
    channel_frames = vm.build_frames(data, suffixes=CHANNEL_SUFFIXES, level_db=level)
    tests = {"clean": (views[0], frames[0]), **dict(zip(CHANNELS, zip(channel_views, channel_frames)))}
    print(f"features ready ({time.time() - start:.0f} s)", flush=True)
    n = len(CLASSES)
    p_lr = {c: np.zeros((len(y), n)) for c in tests}
    p_fr = {c: np.zeros((len(y), n)) for c in tests}
    actors = np.random.RandomState(seed).permutation(np.unique(actor))
    for k, held in enumerate(np.array_split(actors, FOLDS)):
        te = np.isin(actor, held)
        tr = ~te
        pop = fit_population([v[tr] for v in views], y[tr])
        net = vf.fit_frames(frames, y, np.flatnonzero(tr), n, seed=seed)
        for c, (x, fr) in tests.items():
            p_lr[c][te] = logistic_proba(pop, x[te])
            p_fr[c][te] = vf.predict_frames(net, [fr], np.flatnonzero(te))
        print(f"fold {k + 1}/{FOLDS} ({time.time() - start:.0f} s)", flush=True)
    clean = uar(y, blend(p_lr["clean"], p_fr["clean"]).argmax(1))
    level_text = "as recorded" if level is None else f"set to {level:g} dBFS"
    print(f"\nrecipe {recipe} (level {level_text}), seed {seed}, {n}-class UAR on held-out actors, one view "
          f"per clip; training views: {', '.join(s or 'original' for s in suffixes)}")
    print(f"{'channel':<10} {'regression':>10} {'frame net':>10} {'blend':>8} {'ratio':>7}")
    for c in tests:
        both = uar(y, blend(p_lr[c], p_fr[c]).argmax(1))
        print(f"{c:<10} {uar(y, p_lr[c].argmax(1)):>10.3f} {uar(y, p_fr[c].argmax(1)):>10.3f} "
              f"{both:>8.3f} {both / clean:>7.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("seed", nargs="?", type=int, default=0)
    ap.add_argument("--recipe", choices=("shipped", "unlevelled"), default="shipped")
    ap.add_argument("--train-also", nargs="*", default=[])
    args = ap.parse_args()
    main(args.data, args.seed, args.recipe, args.train_also)
