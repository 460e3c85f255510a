"""Training helpers for the text head, on synthetic MELD-format files (no real data needed)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, recall_score

from emoreason.labels import CANONICAL
from emoreason.training.text.data import load_meld
from emoreason.training.text.model import fit_temperature, main, metrics, vader_rule, without_overlap

MELD_CSV = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"
    '1,Hi there.,A,neutral,neutral,1,0,1,1,"00:00:01,000","00:00:02,000"\n'
    '2,I’m so happy!,B,joy,positive,1,1,1,1,"00:00:02,000","00:00:03,000"\n'
    '3,Go away.,A,anger,negative,0,1,1,1,"00:00:02,000","00:00:03,000"\n'
    '4,What?,B,surprise,negative,0,0,1,1,"00:00:01,000","00:00:02,000"\n'
    '5,No way.,A,surprise,negative,10,0,1,1,"00:00:01,000","00:00:02,000"\n'
)


@pytest.fixture()
def data(tmp_path):
    (tmp_path / "meld").mkdir()
    (tmp_path / "meld" / "train_sent_emo.csv").write_text(MELD_CSV, encoding="utf-8")
    return tmp_path


def test_load_meld_orders_dialogues_maps_labels_and_links_previous_utterances(data):
    s = load_meld(data, "train")
    assert s.texts == ["What?", "Go away.", "Hi there.", "I'm so happy!", "No way."]  # ids sorted numerically
    assert [CANONICAL[k] for k in s.labels] == ["surprised", "angry", "neutral", "happy", "surprised"]
    assert s.previous == ["", "What?", "", "Hi there.", ""]  # never across dialogues


def test_without_overlap_drops_utterances_seen_in_dev(data):
    s = load_meld(data, "train")
    dev = load_meld(data, "train")
    dev.texts = ["what?", "Something else"]
    kept, dropped = without_overlap(s, dev)
    assert dropped == 1 and "What?" not in kept.texts and len(kept.labels) == 4


def test_fit_temperature_recovers_the_temperature_that_made_the_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 7)) * 3
    z = logits / 2.0
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = np.array([rng.choice(7, p=row) for row in p])
    assert fit_temperature(logits, y) == pytest.approx(2.0, abs=0.15)


def test_vader_rule_and_metrics():
    s = type("S", (), {"labels": np.array([CANONICAL.index("sad")] * 3 + [CANONICAL.index("angry")])})()
    pred = vader_rule(["I love this, wonderful!", "This is awful and terrible.", "The table is brown."], s)
    assert [CANONICAL[k] for k in pred] == ["happy", "sad", "neutral"]
    m = metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    assert m["accuracy"] == 0.75 and m["recall"]["neutral"] == 0.5 and m["recall"]["happy"] == 1.0
    assert m["confusion"][0][:2] == [1, 1]


@pytest.mark.parametrize("seed", range(12))
def test_metrics_equal_sklearn_with_every_canonical_class(seed):
    """The scores the text model card reports: sklearn's, with the fixed list of all 7 classes and
    zero_division=0 (classes missing from both sides included), to the last bit."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    y = rng.integers(0, int(rng.integers(1, len(CANONICAL) + 1)), n)  # some classes may never occur
    pred = np.where(rng.random(n) < 0.5, y, rng.integers(0, int(rng.integers(1, len(CANONICAL) + 1)), n))
    labels = list(range(len(CANONICAL)))
    m = metrics(y, pred)
    assert m["weighted_f1"] == f1_score(y, pred, labels=labels, average="weighted", zero_division=0)
    assert m["macro_f1"] == f1_score(y, pred, labels=labels, average="macro", zero_division=0)
    assert m["accuracy"] == float((y == pred).mean())
    recall = recall_score(y, pred, labels=labels, average=None, zero_division=0)
    assert list(m["recall"]) == list(CANONICAL) and list(m["recall"].values()) == recall.tolist()
    assert m["confusion"] == confusion_matrix(y, pred, labels=labels).tolist()


def test_missing_data_is_a_one_line_error(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out"), "--cache", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: training data not found") and "\n" not in err
    assert not (tmp_path / "out").exists()
