"""The cross-corpus protocol: the corpus tables and label maps, the splits (no speaker on both sides), the
normalisations and the scores, on small hand-made tables in the shared data's layout."""

from __future__ import annotations

import numpy as np
import pytest

from emoreason.errors import ConfigError
from emoreason.labels import CANONICAL
from emoreason.training.voice.corpora import (
    EMODB_MAP,
    RAVDESS_MAP,
    SHARED,
    SHARED_TO_CANONICAL,
    load_both,
    load_corpus,
)
from emoreason.training.voice.crosscorpus import (
    check_disjoint,
    labelled,
    normalise,
    pooled_predictions,
    protocols,
    score,
)

RAV_EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
EMO_EMOTIONS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")


@pytest.fixture
def data(tmp_path):
    rav = tmp_path / "ravdess_speech"
    rav.mkdir()
    rows = ["path,emotion,intensity,statement,repetition,actor,sex"]
    for actor in range(1, 11):
        for s, statement in enumerate(("Kids are talking by the door", "Dogs are sitting by the door")):
            for e in RAV_EMOTIONS:
                rows.append(f"audio/Actor_{actor:02d}/{actor}-{s}-{e}.flac,{e},normal,{statement},1,{actor},"
                            f"{'male' if actor % 2 else 'female'}")
    (rav / "labels.csv").write_text("\n".join(rows) + "\n")
    emo = tmp_path / "emodb"
    emo.mkdir()
    rows = ["path,speaker,text_id,emotion,version"]
    for spk in ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16"):
        for text in ("a01", "a02", "b01", "b02"):
            for e in EMO_EMOTIONS:
                rows.append(f"audio/{spk}{text}{e[0]}.flac,{spk},{text},{e},a")
    (emo / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_label_maps_share_six_classes_and_drop_the_rest():
    assert {v for v in RAVDESS_MAP.values() if v} == {v for v in EMODB_MAP.values() if v} == set(SHARED)
    assert RAVDESS_MAP["calm"] is RAVDESS_MAP["surprised"] is EMODB_MAP["boredom"] is None
    assert set(SHARED_TO_CANONICAL.values()) <= set(CANONICAL)


def test_load_corpus_columns_and_labels(data):
    rav, emo = load_corpus(data, "ravdess"), load_corpus(data, "emodb")
    assert list(rav["path"]) == sorted(rav["path"])
    assert set(rav["speaker"]) == {f"rav{a:02d}" for a in range(1, 11)}
    assert set(emo["sex"]) == {"male", "female"} and (emo["speaker"] == "emo03").sum() == 28
    assert set(emo.loc[emo["emotion"] == "boredom", "label"].isna()) == {True}
    assert emo.loc[emo["emotion"] == "anger", "label"].unique().tolist() == ["angry"]
    both = load_both(data)
    assert len(both) == len(rav) + len(emo) and both["corpus"].iloc[0] == "ravdess"
    with pytest.raises(ConfigError, match="unknown corpus"):
        load_corpus(data, "tess")
    with pytest.raises(ConfigError, match="no emodb table"):
        load_corpus(data / "nowhere", "emodb")


def test_unknown_label_is_a_config_error(data):
    table = data / "emodb" / "labels.csv"
    table.write_text(table.read_text() + "audio/03a01X.flac,03,a01,joy,a\n")
    with pytest.raises(ConfigError, match="joy"):
        load_corpus(data, "emodb")


def test_protocols_keep_speakers_apart_and_test_every_labelled_clip_once(data):
    df = load_both(data)
    lab, corpus = labelled(df), df["corpus"].to_numpy()
    folds = protocols(df)
    assert set(folds) == {"ravdess->emodb", "emodb->ravdess", "both:speakers-out", "ravdess:speakers-out",
                          "sex-out", "unseen-sentence"}
    for fs in folds.values():
        check_disjoint(df, fs)
        tested = np.concatenate([te for _, te in fs])
        assert len(tested) == len(set(tested))  # no clip tested twice in one protocol
    (tr, te), = folds["ravdess->emodb"]
    assert set(corpus[tr]) == {"ravdess"} and set(corpus[te]) == {"emodb"}
    assert len(te) == (lab & (corpus == "emodb")).sum()
    for name in ("both:speakers-out", "sex-out", "unseen-sentence"):
        tested = np.concatenate([te for _, te in folds[name]])
        assert set(corpus[tested]) == {"ravdess", "emodb"}
    assert sorted(np.concatenate([te for _, te in folds["both:speakers-out"]])) == list(np.flatnonzero(lab))
    for (tr, te), (tr_r, te_r) in zip(folds["both:speakers-out"], folds["ravdess:speakers-out"]):
        assert set(corpus[tr_r]) == set(corpus[te_r]) == {"ravdess"}
        assert set(te_r) == set(te[corpus[te] == "ravdess"]) and set(tr_r) < set(tr)
    sentence = df["sentence"].to_numpy()
    for tr, te in folds["unseen-sentence"]:
        assert not set(sentence[tr]) & set(sentence[te])
    sex = df["sex"].to_numpy()
    for tr, te in folds["sex-out"]:
        assert len(set(sex[tr])) == len(set(sex[te])) == 1 and set(sex[tr]) != set(sex[te])


def test_check_disjoint_catches_a_shared_speaker(data):
    df = load_both(data)
    (tr, te), = protocols(df)["ravdess->emodb"]
    with pytest.raises(AssertionError, match="rav01"):
        check_disjoint(df, [(tr, np.concatenate([te, tr[:1]]))])


def test_normalisations():
    rng = np.random.RandomState(0)
    x = rng.randn(40, 3) + np.repeat([[0.0], [10.0]], 20, axis=0)
    views = [x, x * 2]
    corpus = np.repeat(["a", "b"], 20)
    speaker = np.repeat(["s1", "s2", "s3", "s4"], 10)
    assert normalise(views, "population", corpus, speaker) is views
    z = normalise(views, "corpus", corpus, speaker)
    assert np.allclose(z[0][corpus == "b"].mean(0), 0, atol=1e-9)
    assert not np.allclose(z[1][corpus == "b"].std(0), 1)  # the augmented view keeps the original's scale
    s = normalise(views, "speaker", corpus, speaker)
    assert np.allclose(s[1][speaker == "s3"].mean(0), 0, atol=1e-9)
    with pytest.raises(ValueError):
        normalise(views, "clip", corpus, speaker)


def test_score_and_pooled_predictions():
    labels = np.array(["angry", "angry", "sad", "fearful", "neutral", "happy"])
    r = score(labels, np.array(["angry", "sad", "sad", "fearful", "fearful", "happy"]))
    assert r["uar"] == pytest.approx((0.5 + 1 + 1 + 0 + 1) / 5)
    assert r["n4"] == 5 and r["uar4"] == pytest.approx((0.5 + 1 + 0 + 1) / 4)  # neutral called fearful: wrong
    pred, tested = pooled_predictions([(np.array([0]), np.array([1, 2])), (np.array([1]), np.array([3]))],
                                      lambda tr, te: np.array(["x"] * len(te)), 5)
    assert tested.tolist() == [False, True, True, True, False] and pred[1] == "x"
