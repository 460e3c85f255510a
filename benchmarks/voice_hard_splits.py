"""Voice model on harder splits than the card's grouped CV: the population regression alone, the
frame network alone and their shipped blend, trained with the shipped training code; and the
speaker path (speaker regression on features z-scored over each test actor's clips, mixed with the frame
network as shipped): what ``analyze_clips`` / ``eval --voice-by-speaker`` gives when the speaker's clips
are read together (forced, as ``speaker_normalisation="always"``: these test actors span every emotion).

- trained on one sex, tested on the other (9 actors each way);
- unseen actors AND the unseen sentence: 6 actor folds (seeded like the card's CV); within each, train
  on one of RAVDESS's two sentences of the other actors and test on the held-out actors' other sentence.

    .venv/bin/python benchmarks/voice_hard_splits.py ../shared/data [SEED ...]   # default seeds 0 1 2

Uses the feature cache of ``python -m emoreason.training.voice.model``; about 1 minute per frame-network
fit on a busy 2-core machine (2 for the sex split, 12 per seed for the sentence split).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from emoreason.eval.metrics import uar
from emoreason.training.voice import frames as vf
from emoreason.training.voice import model as vm
from emoreason.training.voice.crossval import FOLDS
from emoreason.training.voice.features import load_ravdess
from emoreason.training.voice.recipe import (
    CLASSES,
    blend,
    fit_population,
    fit_speaker_model,
    predict_speaker,
    predict_tta,
    tta_frames,
)


def main(data: str, seeds: list[int]) -> None:
    views, _, y, actor = vm.build_matrix(data)
    frames = vm.build_frames(data)
    df = load_ravdess(data)
    female = (df["sex"] == "female").to_numpy()
    sentence = df["statement"].str.startswith("Kids").to_numpy()
    n = len(CLASSES)

    def fit(tr, te, seed):
        pop = fit_population([v[tr] for v in views], y[tr])
        p_lr = predict_tta(pop, [v[te] for v in views])
        net = vf.fit_frames(frames, y, np.flatnonzero(tr), n, seed=seed)
        p_fr = vf.predict_frames(net, tta_frames(frames), np.flatnonzero(te))
        spk = fit_speaker_model([v[tr] for v in views], y[tr], actor[tr])
        # the speaker path with each test actor's clips together
        p_spk = predict_speaker(spk, [v[te] for v in views], actor[te], p_fr)
        return p_lr, p_fr, p_spk

    def line(label, yy, p_lr, p_fr, p_spk):
        print(f"{label}: regression {uar(yy, p_lr.argmax(1)):.3f}  "
              f"frame network {uar(yy, p_fr.argmax(1)):.3f}  "
              f"blend {uar(yy, blend(p_lr, p_fr).argmax(1)):.3f}  speaker path, each test actor's clips "
              f"together {uar(yy, p_spk.argmax(1)):.3f}  ({time.time() - start:.0f} s)", flush=True)

    start = time.time()
    for train_female in (False, True):
        tr = female == train_female
        line(f"train {'female' if train_female else 'male'} -> test the other sex", y[~tr], *fit(tr, ~tr, 0))
    for seed in seeds:
        actors = np.random.RandomState(seed).permutation(np.unique(actor))
        p_lr, p_fr, p_spk = np.zeros((len(y), n)), np.zeros((len(y), n)), np.zeros((len(y), n))
        for held in np.array_split(actors, FOLDS):
            for s in (False, True):
                tr = ~np.isin(actor, held) & (sentence == s)
                te = np.isin(actor, held) & (sentence != s)
                p_lr[te], p_fr[te], p_spk[te] = fit(tr, te, seed)
        line(f"unseen sentence + unseen actors, seed {seed}", y, p_lr, p_fr, p_spk)


if __name__ == "__main__":
    main(sys.argv[1], [int(s) for s in sys.argv[2:]] or [0, 1, 2])
