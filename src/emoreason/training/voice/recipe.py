"""The default voice model's recipe: its constants and the functions that fit and apply its classifiers.

The model (how it is used at prediction: :mod:`emoreason.perception.voice.classifier`):

- ``population``: a logistic regression (C = ``C_REG``) on the features standardised with the training
  population's statistics (one clip alone, or a recording with fewer than 3 speech segments);
- ``recording``: the same features side by side with the features z-scored within a "recording" (several
  segments of one voice). Each clip is placed in four kinds of recording (:func:`recording_views`): alone
  (relative part 0), in random groups of ``GROUP`` clips of its actor, in groups of ``GROUP`` clips of its
  actor AND emotion (a recording in one mood), and with all its actor's clips. A classifier on the z-scored
  features alone scores higher when a recording spans all emotions but falls to chance when it keeps to
  one (the cross-validation's ``zscore_only_*`` rows), which is what real recordings often do;
- ``speaker``: a regression on the within-recording z-scores alone (the field's speaker normalisation),
  trained with every actor's clips as one recording; used (mixed with the frame network,
  ``SPEAKER_LR_WEIGHT``) only when a recording has at least ``SPEAKER_MIN_SEGMENTS`` segments and the
  population path's mean prediction over them spreads over at least ``SPEAKER_MIN_EFFECTIVE`` classes
  (``emoreason.perception.voice.classifier.effective_classes``). The three numbers are rules of thumb
  chosen from pilots on the cross-validation's folds (seeds 0, 1);
- ``frames``: a small network on the encoder states (:mod:`.frames`), mixed with either regression's
  probabilities with ``FRAME_WEIGHT`` (:func:`blend`).

Every classifier is trained on the original and the ``AUGMENTATIONS`` views of every clip: the clip played
at 0.8x, 0.9x, 0.95x, 1.05x, 1.1x and 1.2x speed (tempo and pitch together), with white noise at 10-30 dB
SNR, through a random band-pass and in a random synthetic room (:mod:`emoreason.training.voice.channels`),
each with the original clip's prosody. At prediction the original and the ``TTA_SPEEDS`` views (0.9x,
1.1x) are averaged: three views rather than all seven speeds (``ALL_SPEED_VIEWS``, the ``*_tta7`` rows),
because the numpy encoder costs about 2.6x CTranslate2's int8 one per call (the card's Speed section).

sklearn is imported inside :func:`fit_lr`: it is heavy.
"""

from __future__ import annotations

import numpy as np

from emoreason.perception.voice.classifier import logistic_proba, speaker_gate_opens, zscore
from emoreason.training.voice.features import SPEEDS

CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
RAVDESS_TO_CANONICAL = {"neutral": "neutral", "calm": "neutral", "happy": "happy", "sad": "sad",
                        "angry": "angry", "fearful": "fearful", "disgust": "disgusted",
                        "surprised": "surprised"}
C_REG = 0.01
FRAME_WEIGHT = 0.5  # final probabilities = (1 - w) x logistic regression + w x frame network
SPEAKER_LR_WEIGHT = 2 / 3  # speaker path = w x speaker regression + (1 - w) x frame network
SPEAKER_MIN_SEGMENTS = 15  # the speaker path's gate: at least this many segments ...
SPEAKER_MIN_EFFECTIVE = 6.0  # ... whose mean population prediction spreads over >= this many classes
SEEDS = (0, 1, 2)  # the cross-validation's seeds; the first also seeds the exported model
GROUP = 5  # clips per simulated "recording" in the small-recording groups
AUGMENTATIONS = (*(f"speed{s}" for s in SPEEDS), "noise", "band", "room")  # training views after the original
TTA_SPEEDS = (0.9, 1.1)  # prediction = mean over the original and these speed-changed views
TTA_VIEWS = (0, *(1 + SPEEDS.index(s) for s in TTA_SPEEDS))  # their indices in the list of views
ALL_SPEED_VIEWS = tuple(range(1 + len(SPEEDS)))  # the original and all six speeds (the tta7 rows)


def speaker_zscore(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Z-score every column within each group (an actor, or a recording), as the classifier does within a
    recording."""
    z = np.empty_like(x)
    for g in np.unique(groups):
        m = groups == g
        z[m] = zscore(x[m])
    return z


def fit_lr(x: np.ndarray, y: np.ndarray, class_weight: str | None = None) -> dict[str, np.ndarray]:
    """A logistic regression (C = ``C_REG``) on ``x`` standardised by its own mean and std, as the
    arrays :func:`~emoreason.perception.voice.classifier.logistic_proba` reads; ``class_weight``
    "balanced" weighs every class equally (sklearn's option)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    clf = LogisticRegression(C=C_REG, max_iter=3000, class_weight=class_weight).fit((x - mean) / scale, y)
    return {"mean": mean, "scale": scale, "coef": clf.coef_, "intercept": clf.intercept_}


def groups_within(actor: np.ndarray, y: np.ndarray, same_emotion: bool, rng, size: int = GROUP) -> np.ndarray:
    """Random "recordings" of ``size`` clips of one actor (of one emotion if ``same_emotion``; an emotion
    with fewer than 2 x ``size`` clips makes one recording)."""
    out = np.zeros(len(actor), dtype=np.int64)
    next_id = 0
    if same_emotion:
        keys = [(a, c) for a in np.unique(actor) for c in np.unique(y)]
    else:
        keys = list(np.unique(actor))
    for k in keys:
        idx = np.flatnonzero((actor == k[0]) & (y == k[1])) if same_emotion else np.flatnonzero(actor == k)
        idx = rng.permutation(idx)
        for part in np.array_split(idx, max(1, len(idx) // size)):
            out[part] = next_id
            next_id += 1
    return out


def recording_views(x: np.ndarray, y: np.ndarray, actor: np.ndarray, rng) -> dict[str, np.ndarray]:
    """The within-recording z-scored features of every clip under four kinds of "recording"."""
    return {"alone": np.zeros_like(x),
            "mixed5": speaker_zscore(x, groups_within(actor, y, False, rng)),
            "same5": speaker_zscore(x, groups_within(actor, y, True, rng)),
            "all": speaker_zscore(x, actor)}


def fit_population(views: list[np.ndarray], y: np.ndarray,
                   class_weight: str | None = None) -> dict[str, np.ndarray]:
    """The ``population`` classifier on every augmented view of the clips."""
    return fit_lr(np.concatenate(views), np.concatenate([y] * len(views)), class_weight)


def fit_recording_model(views: list[np.ndarray], y: np.ndarray, actor: np.ndarray,
                        rng, class_weight: str | None = None) -> dict[str, np.ndarray]:
    """The ``recording`` classifier: [absolute, within-recording z] features. Every augmented view is
    grouped into the four kinds of recording; a random 1/len(views) of each (view, kind) is kept, so
    the training set stays 4x the clips."""
    rows, labels = [], []
    for v in views:
        for rel in recording_views(v, y, actor, rng).values():
            keep = rng.rand(len(y)) < 1.0 / len(views)
            rows.append(np.hstack([v, rel])[keep])
            labels.append(y[keep])
    return fit_lr(np.concatenate(rows), np.concatenate(labels), class_weight)


def fit_speaker_model(views: list[np.ndarray], y: np.ndarray, actor: np.ndarray,
                      class_weight: str | None = None) -> dict[str, np.ndarray]:
    """The ``speaker`` classifier: every view z-scored within each actor (all its clips one recording)."""
    return fit_lr(np.concatenate([speaker_zscore(v, actor) for v in views]), np.concatenate([y] * len(views)),
                  class_weight)


def speaker_gated(p_recording: np.ndarray, p_speaker: np.ndarray, p_population: np.ndarray,
                  groups: np.ndarray) -> tuple[np.ndarray, float]:
    """Per recording (``groups``), the speaker path's probabilities where the gate opens and the
    recording path's elsewhere (as ``VoiceClassifier.predict``); and the share of clips in open recordings."""
    out, opened = p_recording.copy(), 0
    for g in np.unique(groups):
        m = groups == g
        if speaker_gate_opens(p_population[m], SPEAKER_MIN_SEGMENTS, SPEAKER_MIN_EFFECTIVE)[0]:
            out[m], opened = p_speaker[m], opened + m.sum()
    return out, opened / len(groups)


def predict_speaker(params: dict[str, np.ndarray], views: list[np.ndarray], groups: np.ndarray,
                    p_frames: np.ndarray | None = None, tta: tuple[int, ...] = TTA_VIEWS) -> np.ndarray:
    """The speaker path: the speaker regression on each TTA view (indices ``tta``) z-scored within its
    recording (``groups``), averaged, mixed with the frame network's probabilities when given."""
    p = np.mean([logistic_proba(params, speaker_zscore(views[i], groups)) for i in tta], axis=0)
    return p if p_frames is None else SPEAKER_LR_WEIGHT * p + (1 - SPEAKER_LR_WEIGHT) * p_frames


def blend(p_lr: np.ndarray, p_frames: np.ndarray | None) -> np.ndarray:
    """The shipped mixture of the logistic regression's and the frame network's probabilities."""
    return p_lr if p_frames is None else (1 - FRAME_WEIGHT) * p_lr + FRAME_WEIGHT * p_frames


def tta_frames(frames: list) -> list:
    """The frame views that prediction averages (``TTA_VIEWS`` of ``build_frames``' list)."""
    return [frames[i] for i in TTA_VIEWS]


def predict_tta(params: dict[str, np.ndarray], views: list[np.ndarray], groups: np.ndarray | None = None,
                tta: tuple[int, ...] = TTA_VIEWS) -> np.ndarray:
    """Probabilities averaged over the original and the TTA_SPEEDS views (indices ``tta`` into
    ``views``); with ``groups``, each view is z-scored within its recordings and given to the recording
    classifier."""
    probs = [logistic_proba(params, views[i] if groups is None
                           else np.hstack([views[i], speaker_zscore(views[i], groups)]))
             for i in tta]
    return np.mean(probs, axis=0)
