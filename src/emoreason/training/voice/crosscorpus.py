"""The cross-corpus protocol of the voice model: splits over RAVDESS + EmoDB, normalisations and scores.

Only the clips with a shared label (:data:`~emoreason.training.voice.corpora.SHARED`, six classes) take
part. The protocols (:func:`protocols`; each a list of folds ``(train indices, test indices)`` into the
table of :func:`~emoreason.training.voice.corpora.load_both`; no speaker is ever on both sides of a fold,
:func:`check_disjoint`):

- ``ravdess->emodb`` / ``emodb->ravdess``: train on one corpus, test on the other. With two corpora these
  two ARE leave-one-corpus-out on the union;
- ``both:speakers-out``: both corpora in training, ``SPEAKER_FOLDS`` folds, each holding out a fifth of
  each corpus's speakers (seeded); ``ravdess:speakers-out``: the same folds with RAVDESS alone on both
  sides (what training on EmoDB too costs or gives on unseen RAVDESS actors);
- ``sex-out``: both corpora, train on one sex and test on the other (two folds);
- ``unseen-sentence``: both corpora; each corpus's speakers and sentences are cut in two halves
  (seeded), and fold (i, j) tests speaker half i on sentence half j after training on the other speakers'
  other sentences: neither the voice nor the words were heard in training.

Normalisations (:func:`normalise`): ``population`` (the classifier's own standardisation with the
training set's statistics, as the shipped population path), ``corpus`` (each corpus's rows z-scored with
that corpus's statistics on its side of the fold: unlabelled adaptation to a new corpus, which needs a
batch of that corpus's clips) and ``speaker`` (z-scored within each speaker: the shipped speaker path,
which needs the speaker's clips to span several emotions).

Scores (:func:`score`): per-clip UAR and weighted F1 over the six classes, and the 4-class view (clips
labelled angry, happy, neutral or sad; the model's prediction over all its classes, so a clip called
fearful counts as wrong, as the evaluation harness scores a corpus with fewer labels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emoreason.eval.metrics import uar, weighted_f1
from emoreason.training.voice.corpora import FOUR, SHARED
from emoreason.training.voice.recipe import speaker_zscore

SPEAKER_FOLDS = 5
SEED = 0
NORMALISATIONS = ("population", "corpus", "speaker")
Fold = tuple[np.ndarray, np.ndarray]


def labelled(df: pd.DataFrame) -> np.ndarray:
    """Whether each clip has a shared label."""
    return df["label"].notna().to_numpy()


def _halves(values: np.ndarray, rng: np.random.RandomState, parts: int = 2) -> list[np.ndarray]:
    return np.array_split(rng.permutation(np.unique(values)), parts)


def protocols(df: pd.DataFrame, seed: int = SEED) -> dict[str, list[Fold]]:
    """Every protocol's folds (module docstring), as index arrays into ``df``."""
    lab = labelled(df)
    corpus, speaker, sex, sentence = (df[c].to_numpy() for c in ("corpus", "speaker", "sex", "sentence"))
    rav, emo = np.flatnonzero(lab & (corpus == "ravdess")), np.flatnonzero(lab & (corpus == "emodb"))
    out: dict[str, list[Fold]] = {"ravdess->emodb": [(rav, emo)], "emodb->ravdess": [(emo, rav)]}
    rng = np.random.RandomState(seed)
    groups = {c: _halves(speaker[corpus == c], rng, SPEAKER_FOLDS) for c in ("ravdess", "emodb")}
    out["both:speakers-out"], out["ravdess:speakers-out"] = [], []
    for k in range(SPEAKER_FOLDS):
        held = np.isin(speaker, np.concatenate([groups[c][k] for c in groups]))
        out["both:speakers-out"].append((np.flatnonzero(lab & ~held), np.flatnonzero(lab & held)))
        in_rav = corpus == "ravdess"
        out["ravdess:speakers-out"].append((np.flatnonzero(lab & in_rav & ~held),
                                            np.flatnonzero(lab & in_rav & held)))
    out["sex-out"] = [(np.flatnonzero(lab & (sex == a)), np.flatnonzero(lab & (sex == b)))
                      for a, b in (("male", "female"), ("female", "male"))]
    spk = {c: _halves(speaker[corpus == c], rng) for c in ("ravdess", "emodb")}
    sen = {c: _halves(sentence[corpus == c], rng) for c in ("ravdess", "emodb")}
    out["unseen-sentence"] = []
    for i in range(2):
        for j in range(2):
            test_spk = np.isin(speaker, np.concatenate([spk[c][i] for c in spk]))
            test_sen = np.isin(sentence, np.concatenate([sen[c][j] for c in sen]))
            out["unseen-sentence"].append((np.flatnonzero(lab & ~test_spk & ~test_sen),
                                           np.flatnonzero(lab & test_spk & test_sen)))
    return out


def check_disjoint(df: pd.DataFrame, folds: list[Fold]) -> None:
    """AssertionError when a fold has a speaker on both sides or an unlabelled clip."""
    lab, speaker = labelled(df), df["speaker"].to_numpy()
    for tr, te in folds:
        assert lab[tr].all() and lab[te].all(), "a fold holds a clip without a shared label"
        shared = set(speaker[tr]) & set(speaker[te])
        assert not shared, f"speakers on both sides of a fold: {sorted(shared)}"


def _zscore_by(x: np.ndarray, groups: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
    """``x`` z-scored within each group, with the statistics of ``ref``'s rows of the group (default
    ``x``'s own): ``ref`` lets every augmented view use its original view's statistics."""
    ref = x if ref is None else ref
    out = np.empty_like(x)
    for g in np.unique(groups):
        m = groups == g
        out[m] = (x[m] - ref[m].mean(axis=0)) / (ref[m].std(axis=0) + 1e-6)
    return out


def normalise(views: list[np.ndarray], how: str, corpus: np.ndarray, speaker: np.ndarray) -> list[np.ndarray]:
    """The views of one side of a fold (the same rows in every view; the original first) normalised
    ``how`` (:data:`NORMALISATIONS`): ``population`` leaves them as they are; ``corpus`` z-scores every
    view within each corpus with the original view's statistics; ``speaker`` z-scores every view within
    each speaker on its own (as the shipped speaker classifier is trained and applied)."""
    if how == "population":
        return views
    if how == "corpus":
        return [_zscore_by(v, corpus, views[0]) for v in views]
    if how == "speaker":
        return [speaker_zscore(v, speaker) for v in views]
    raise ValueError(f"unknown normalisation {how!r}")


def score(labels: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Per-clip UAR and weighted F1 of the shared-class names ``pred`` against ``labels`` over all six
    classes, and UAR / weighted F1 over the clips labelled one of FOUR (the predictions as they are)."""
    labels, pred = np.asarray(labels, dtype=object), np.asarray(pred, dtype=object)
    four = np.isin(labels, FOUR)
    return {"n": int(len(labels)), "uar": uar(labels, pred), "wf1": weighted_f1(labels, pred, labels=SHARED),
            "n4": int(four.sum()), "uar4": uar(labels[four], pred[four]),
            "wf14": weighted_f1(labels[four], pred[four], labels=FOUR)}


def pooled_predictions(folds: list[Fold], predict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every fold's predictions (``predict(train, test)`` returns one shared-class name per test clip)
    gathered into one array over ``n`` clips, and the mask of the clips that were tested."""
    pred = np.full(n, None, dtype=object)
    for tr, te in folds:
        pred[te] = predict(tr, te)
    return pred, pred != None  # noqa: E711 (element-wise)
