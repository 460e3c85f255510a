"""The voice model's training code on small synthetic feature sets: CV, export, and loading back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.voice.classifier import (
    CONFIG_FILE,
    VoiceClassifier,
    default_model_dir,
    effective_classes,
    logistic_proba,
)
from emoreason.perception.voice.prosody import COLUMNS
from emoreason.training.voice import crossval as cv
from emoreason.training.voice import model as vm
from emoreason.training.voice import multicorpus as mc
from emoreason.training.voice import recipe as rc
from emoreason.training.voice.features import POOLED_LAYERS


def _synthetic(n_actors: int = 6, per_class: int = 5, dim: int = 12, seed: int = 0, voice_scale: float = 5.0):
    """Separable classes plus a per-actor offset (a "voice"), by default larger than the class signal."""
    rng = np.random.RandomState(seed)
    centres = rng.randn(len(rc.CLASSES), dim + len(COLUMNS)) * 2.0
    xs, ys, actors = [], [], []
    for a in range(n_actors):
        voice = rng.randn(dim + len(COLUMNS)) * voice_scale
        for c in range(len(rc.CLASSES)):
            xs.append(centres[c] + voice + rng.randn(per_class, dim + len(COLUMNS)) * 0.5)
            ys += [c] * per_class
            actors += [a + 1] * per_class
    return np.concatenate(xs), np.array(ys), np.array(actors)


def _views(x: np.ndarray, seed: int = 1) -> list[np.ndarray]:
    """The original and 7 "augmented" views (small perturbations) in build_matrix's order: the six speeds
    (so TTA_VIEWS and ALL_SPEED_VIEWS index them) and one more."""
    rng = np.random.RandomState(seed)
    return [x] + [x + rng.randn(*x.shape) * 0.3 for _ in range(len(rc.SPEEDS) + 1)]


def test_speaker_zscore_is_per_group():
    x = np.array([[1.0, 10.0], [3.0, 30.0], [100.0, 0.0], [102.0, 4.0]])
    z = rc.speaker_zscore(x, np.array([1, 1, 2, 2]))
    assert np.allclose(z, [[-1, -1], [1, 1], [-1, -1], [1, 1]], atol=1e-5)


def test_numpy_predict_proba_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    x, y, _ = _synthetic(n_actors=2)
    params = rc.fit_lr(x, y)
    ref = LogisticRegression(C=rc.C_REG, max_iter=3000).fit((x - params["mean"]) / params["scale"], y)
    assert np.allclose(logistic_proba(params, x), ref.predict_proba((x - params["mean"]) / params["scale"]),
                       atol=1e-6)


def test_groups_are_one_actor_and_for_same_emotion_one_class():
    _, y, actor = _synthetic(n_actors=3, per_class=10)
    rng = np.random.RandomState(0)
    for same in (False, True):
        groups = rc.groups_within(actor, y, same, rng)
        for g in np.unique(groups):
            m = groups == g
            assert len(np.unique(actor[m])) == 1 and 5 <= m.sum() <= 10
            if same:
                assert len(np.unique(y[m])) == 1


def test_cross_validation_reports_every_model_and_sees_the_class_signal():
    x, y, actor = _synthetic()
    report = cv.cross_validate(_views(x), x[:, -len(COLUMNS):], y, actor)
    assert report["majority"]["uar_mean"] == pytest.approx(1 / len(rc.CLASSES))
    assert report["ours_recording_all"]["uar_mean"] > 0.9  # the actor offset removed
    assert report["ours_recording_same5"]["uar_mean"] > 0.5
    assert report["zscore_only_same5"]["uar_mean"] < 0.4  # one-mood recordings defeat z-scoring alone
    for r in report.values():
        assert np.array(r["confusion"]).sum() == len(y) * len(rc.SEEDS)
        assert set(r["recall"]) == set(rc.CLASSES)


def test_exported_model_loads_and_maps_calm_into_neutral(tmp_path):
    x, y, actor = _synthetic()
    vm.export(_views(x), y, actor, tmp_path, report={})
    clf = VoiceClassifier(tmp_path)
    assert clf.dim == x.shape[1]
    one, variant = clf.predict(x[:1])
    assert variant == "population" and one.shape == (1, len(CANONICAL))
    assert np.allclose(one.sum(axis=1), 1.0)
    calm = x[y == rc.CLASSES.index("calm")][:1]
    probs, _ = clf.predict(calm)
    assert CANONICAL[int(probs.argmax())] == "neutral"  # calm is folded into neutral
    rec = x[actor == 1]  # 40 segments spanning all 8 classes: the speaker gate opens
    truth = [CANONICAL.index(rc.RAVDESS_TO_CANONICAL[rc.CLASSES[c]]) for c in y[actor == 1]]
    probs, variant = clf.predict(rec)
    assert variant == "speaker" and clf.speaker_gate(rec)["use"]
    assert np.mean(probs.argmax(axis=1) == truth) > 0.9
    probs, variant = VoiceClassifier(tmp_path, speaker_normalisation="never").predict(rec)
    assert variant == "recording"
    assert np.mean(probs.argmax(axis=1) == truth) > 0.9
    assert "NON-COMMERCIAL" in (tmp_path / "LICENSE.md").read_text()
    assert clf.config.tta_speeds == list(rc.TTA_SPEEDS)
    assert clf.config.whisper_layers == list(POOLED_LAYERS)
    assert clf.config.frame_layer == -1  # no frame network here
    views = _views(x[actor == 1])[:3]
    averaged, _ = clf.predict(views)
    singles = [clf.predict(v)[0] for v in views]
    assert np.allclose(averaged, np.mean(singles, axis=0))  # test-time views are averaged


def test_predict_tta_averages_the_original_and_speed_views():
    x, y, actor = _synthetic(n_actors=2)
    views = _views(x)
    params = rc.fit_population(views, y)
    assert rc.TTA_VIEWS == (0, 1 + rc.SPEEDS.index(0.9), 1 + rc.SPEEDS.index(1.1))  # original, 0.9x, 1.1x
    expected = np.mean([logistic_proba(params, views[i]) for i in rc.TTA_VIEWS], axis=0)
    assert np.allclose(rc.predict_tta(params, views), expected)
    every = np.mean([logistic_proba(params, views[i]) for i in range(1 + len(rc.SPEEDS))], axis=0)
    assert np.allclose(rc.predict_tta(params, views, tta=rc.ALL_SPEED_VIEWS), every)
    assert not np.allclose(every, expected)
    rec = rc.fit_recording_model(views, y, actor, np.random.RandomState(0))
    assert rec["coef"].shape == (len(rc.CLASSES), 2 * x.shape[1])
    p = rc.predict_tta(rec, views, groups=actor)
    assert np.allclose(p.sum(axis=1), 1.0)


def test_effective_classes_counts_how_many_classes_the_mean_prediction_spreads_over():
    assert effective_classes(np.eye(8)[[2, 2, 2]]) == pytest.approx(1.0)
    assert effective_classes(np.eye(8)) == pytest.approx(8.0)
    assert effective_classes(np.eye(8)[[0, 1, 0, 1]]) == pytest.approx(2.0)


def test_speaker_gate_needs_many_segments_spread_over_many_emotions(tmp_path):
    x, y, actor = _synthetic(per_class=5)
    vm.export(_views(x), y, actor, tmp_path, report={})
    clf = VoiceClassifier(tmp_path)
    assert clf.has_speaker_model and clf.config.speaker_min_segments == rc.SPEAKER_MIN_SEGMENTS
    mixed = x[actor == 2]
    assert clf.speaker_gate(mixed)["use"] and clf.speaker_gate(mixed)["effective_classes"] >= 6
    few = mixed[:: len(mixed) // (rc.SPEAKER_MIN_SEGMENTS - 1)][: rc.SPEAKER_MIN_SEGMENTS - 1]
    assert not clf.speaker_gate(few)["use"]  # spread, but too few segments
    angry = x[(actor == 2) & (y == rc.CLASSES.index("angry"))]  # one voice, one mood, 20 segments
    one_mood = np.concatenate([angry + np.random.RandomState(k).randn(*angry.shape) * 0.3 for k in range(4)])
    gate = clf.speaker_gate(one_mood)
    assert not gate["use"] and gate["effective_classes"] < 3
    probs, variant = clf.predict(one_mood)
    assert variant == "recording" and np.mean(probs.argmax(axis=1) == CANONICAL.index("angry")) > 0.9
    forced, variant = VoiceClassifier(tmp_path, speaker_normalisation="always").predict(one_mood)
    assert variant == "speaker"  # forced: z-scoring within one mood loses the mood
    assert np.mean(forced.argmax(axis=1) == CANONICAL.index("angry")) < 0.5
    assert not VoiceClassifier(tmp_path, speaker_normalisation="never").speaker_gate(mixed)["use"]
    with pytest.raises(Exception, match="speaker_normalisation"):
        VoiceClassifier(tmp_path, speaker_normalisation="sometimes")
    cfg = json.loads((tmp_path / "config.json").read_text())
    del cfg["speaker_model"]  # a model without a speaker path: "always" cannot be honoured
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert VoiceClassifier(tmp_path).speaker_gate(mixed)["use"] is False
    with pytest.raises(ModelError, match="no speaker-normalised classifier"):
        VoiceClassifier(tmp_path, speaker_normalisation="always")


def test_cross_validation_reports_the_speaker_gate():
    x, y, actor = _synthetic(voice_scale=1.0)  # unseen voices still get spread population predictions
    report = cv.cross_validate(_views(x), x[:, -len(COLUMNS):], y, actor)
    assert report["ours_recording_all"]["speaker_path_share"] == 1.0  # 40 spread segments per actor
    assert report["ours_recording_mixed5"]["speaker_path_share"] == 0.0  # 5 segments: too few
    assert report["ours_recording_mixed20"]["speaker_path_share"] == 1.0
    assert report["speaker_path_same5"]["uar_mean"] < 0.4  # forced on one-mood recordings it fails
    assert report["ours_recording_same5"]["uar_mean"] > 0.5


def test_export_writes_the_shipped_configs_descriptions_word_for_word(tmp_path):
    """A retrain must reproduce the shipped config.json (version 7, multicorpus.py): every key and
    description the trainer writes is the shipped file's (only the trained numbers and the data's counts
    may differ); the written model loads and predicts."""
    x, y, actor = _synthetic()
    corpus = np.where(actor <= 3, "ravdess", "emodb")
    shipped = json.loads((default_model_dir() / CONFIG_FILE).read_text())
    mc.export(_views(x)[:len(mc.VIEWS)], y, actor, corpus, tmp_path)
    written = json.loads((tmp_path / CONFIG_FILE).read_text())
    assert list(written) == list(shipped)
    for key in ("name", "version", "level_db", "classes", "to_canonical", "features", "variants",
                "speaker_model", "min_segments_recording", "tta_speeds", "augmentation", "class_weight", "C",
                "license"):
        assert written[key] == shipped[key], key
    assert set(written["train_class_counts"]) == {"ravdess", "emodb"}
    clf = VoiceClassifier(tmp_path)
    assert not clf.uses_frames and clf.config.whisper_encoder == "base"
    probs, variant = clf.predict(x[actor == 1])
    assert variant == "speaker" and probs.shape == (int((actor == 1).sum()), len(CANONICAL))
