"""Cross-validation of the default voice model's recipe and its baselines on RAVDESS, for the model card.

6-fold cross-validation grouped by actor (3 actors held out per fold), repeated with the ``SEEDS`` that
shuffle which actors share a fold; per row (a model and an input condition) UAR and WAR
(:mod:`emoreason.eval.metrics`) mean and std over the seeds, per-class recall and the confusion counts
pooled over the seeds. Input conditions: one clip; "recordings" of 5 or 20 clips of one actor (mixed
emotions), of 5 clips of one actor in one emotion, and of all 60 clips of an actor. Baselines computed in
the same run: the majority class, prosody functionals + RBF SVM, and the regressions on the features of
each segment's level as recorded (``UNLEVELLED_VIEWS``, rows ``UNLEVELLED_ROWS``).

sklearn and scipy.stats are imported inside the functions that use them: they are heavy.
"""

from __future__ import annotations

import logging

import numpy as np

from emoreason.eval.metrics import confusion_matrix, per_class, uar, war
from emoreason.labels import VALENCE_AROUSAL
from emoreason.perception.voice.classifier import logistic_proba
from emoreason.perception.voice.cues import arousal_rule
from emoreason.perception.voice.prosody import COLUMNS
from emoreason.training.voice import frames as vf
from emoreason.training.voice.features import SPEEDS
from emoreason.training.voice.recipe import (
    ALL_SPEED_VIEWS,
    CLASSES,
    RAVDESS_TO_CANONICAL,
    SEEDS,
    blend,
    fit_lr,
    fit_population,
    fit_recording_model,
    fit_speaker_model,
    groups_within,
    predict_speaker,
    predict_tta,
    speaker_gated,
    speaker_zscore,
    tta_frames,
)

log = logging.getLogger(__name__)

FOLDS = 6
# the comparison rows' training views, each segment's level as recorded: the original, the speeds, noise
UNLEVELLED_VIEWS = ("", *(f"_speed{s}" for s in SPEEDS), "_noise")
# the regressions trained on UNLEVELLED_VIEWS; the names are keys of the shipped config.json's "cv"
UNLEVELLED_ROWS = ("v5_lr_population", "v5_lr_speaker_all")


def score_predictions(y: np.ndarray, pred: np.ndarray) -> tuple[float, float, np.ndarray]:
    """UAR, WAR (:mod:`emoreason.eval.metrics`) and the recall of each class in CLASSES order, of class
    indices ``pred`` against ``y``."""
    return uar(y, pred), war(y, pred), per_class(y, pred, labels=range(len(CLASSES))).recall


def cross_validate(views: list[np.ndarray], pros: np.ndarray, y: np.ndarray, actor: np.ndarray,
                   frames: list | None = None, unlevelled_views: list[np.ndarray] | None = None) -> dict:
    """Every model and baseline on the same actor-grouped folds: per row (model and input condition)
    UAR and WAR mean and std over the seeds, per-class recall and the confusion counts pooled over them.

    ``pros``: the prosody functionals of the baseline SVMs. ``frames``: the encoder states of every view
    (``build_frames``); with them the ``ours_*`` rows are the shipped blend of the logistic regression and
    the frame network, ``ours_frames`` the network alone and ``lr_*`` the logistic regressions alone.
    ``unlevelled_views``: the features of ``UNLEVELLED_VIEWS`` (each segment's level as recorded) for the
    rows ``UNLEVELLED_ROWS``, their population and speaker regressions without the frame network."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x = views[0]
    conds = ("all", "mixed5", "same5", "mixed20")
    names = ("majority", "prosody_svm", "prosody_svm_speaker", "ours_population", "ours_population_no_tta",
             "ours_population_tta7", "speaker_path_all_tta7", *(f"ours_recording_{c}" for c in conds),
             *(f"zscore_only_{c}" for c in conds), *(f"speaker_path_{c}" for c in conds),
             *(UNLEVELLED_ROWS if unlevelled_views is not None else ()),
             *(("ours_frames", "lr_population", *(f"lr_recording_{c}" for c in conds))
               if frames is not None else ()))
    row_scores: dict[str, list] = {n: [] for n in names}
    confusions = {n: np.zeros((len(CLASSES), len(CLASSES)), dtype=np.int64) for n in names}
    recalls: dict[str, list] = {n: [] for n in names}
    shares: dict[str, list] = {c: [] for c in conds}
    ps_all = speaker_zscore(pros, actor)
    pop_unlevelled, spk_unlevelled = UNLEVELLED_ROWS
    for seed in SEEDS:
        rng = np.random.RandomState(seed)
        actors = rng.permutation(np.unique(actor))
        groups = {"all": actor, "mixed5": groups_within(actor, y, False, rng),
                  "same5": groups_within(actor, y, True, rng),
                  "mixed20": groups_within(actor, y, False, np.random.RandomState(100 + seed), size=20)}
        opened = {c: 0.0 for c in conds}
        preds = {n: np.zeros_like(y) for n in names}
        for held in np.array_split(actors, FOLDS):
            te = np.isin(actor, held)
            tr = ~te
            preds["majority"][te] = np.bincount(y[tr]).argmax()
            for name, feats in (("prosody_svm", pros), ("prosody_svm_speaker", ps_all)):
                sc = StandardScaler().fit(feats[tr])
                svm = SVC(C=1.0).fit(sc.transform(feats[tr]), y[tr])
                preds[name][te] = svm.predict(sc.transform(feats[te]))
            tr_views, te_views = [v[tr] for v in views], [v[te] for v in views]
            pf = pf7 = None
            if frames is not None:
                net = vf.fit_frames(frames, y, np.flatnonzero(tr), len(CLASSES), seed=seed)
                pf = vf.predict_frames(net, tta_frames(frames), np.flatnonzero(te))
                pf7 = vf.predict_frames(net, [frames[i] for i in ALL_SPEED_VIEWS], np.flatnonzero(te))
                preds["ours_frames"][te] = pf.argmax(axis=1)
            pop = fit_population(tr_views, y[tr])
            p_pop = predict_tta(pop, te_views)
            preds["ours_population"][te] = blend(p_pop, pf).argmax(axis=1)
            if frames is not None:
                preds["lr_population"][te] = p_pop.argmax(axis=1)
            preds["ours_population_no_tta"][te] = logistic_proba(pop, x[te]).argmax(axis=1)
            preds["ours_population_tta7"][te] = blend(predict_tta(pop, te_views, tta=ALL_SPEED_VIEWS),
                                                      pf7).argmax(axis=1)
            if unlevelled_views is not None:
                old_tr, old_te = [v[tr] for v in unlevelled_views], [v[te] for v in unlevelled_views]
                old_pop = fit_population(old_tr, y[tr])
                preds[pop_unlevelled][te] = predict_tta(old_pop, old_te).argmax(axis=1)
                old_spk = fit_speaker_model(old_tr, y[tr], actor[tr])
                preds[spk_unlevelled][te] = predict_speaker(old_spk, old_te, actor[te]).argmax(axis=1)
            rec = fit_recording_model(tr_views, y[tr], actor[tr], rng)
            zonly = fit_lr(speaker_zscore(x[tr], actor[tr]), y[tr])
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
                z_te = speaker_zscore(x[te], groups[c][te])
                preds[f"zscore_only_{c}"][te] = logistic_proba(zonly, z_te).argmax(1)
            preds["speaker_path_all_tta7"][te] = predict_speaker(spk, te_views, actor[te], pf7,
                                                                 tta=ALL_SPEED_VIEWS).argmax(axis=1)
            log.info("seed %d, held-out actors %s done", seed, sorted(held.tolist()))
        for c in conds:
            shares[c].append(opened[c])
        for n in names:
            uar_, war_, recall = score_predictions(y, preds[n])
            row_scores[n].append((uar_, war_))
            recalls[n].append(recall)
            confusions[n] += confusion_matrix(y, preds[n], labels=range(len(CLASSES)))
    report = {}
    for n in names:
        s = np.array(row_scores[n])
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

    target = [VALENCE_AROUSAL[RAVDESS_TO_CANONICAL[CLASSES[c]]][1] for c in y]
    out = {}
    for name, z, rel in (("population", (pros - pros.mean(0)) / (pros.std(0) + 1e-9), False),
                         ("per_actor", speaker_zscore(pros, actor), True)):
        rule = [arousal_rule(dict(zip(COLUMNS, row)), rel) for row in z]
        out[f"spearman_{name}"] = float(spearmanr(rule, target).correlation)
    return out
