"""The trained expression head: numpy evaluation, save/load round trip, refusal of broken files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.expression import DEFAULT_FACE_MODEL_DIR
from emoreason.perception.face.head import ExpressionHead


def _tiny_head(d=5, classes=("neutral", "happy", "sad")):
    rng = np.random.default_rng(0)
    return ExpressionHead(list(classes), ["au"], rng.normal(size=d), rng.uniform(0.5, 2, size=d),
                          rng.normal(size=(d, len(classes))), rng.normal(size=len(classes)))


def test_head_matches_its_formula():
    head = _tiny_head()
    x = np.random.default_rng(1).normal(size=(4, 5))
    z = ((x - head.mean) / head.std) @ head.weights + head.bias
    expected = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(head.predict_proba(x), expected, rtol=1e-10)
    scores = head.scores({"au": x[0]})
    assert set(scores) == set(CANONICAL) and scores["angry"] == 0.0
    assert scores["happy"] == pytest.approx(expected[0, 1])


def test_head_round_trip(tmp_path):
    head = _tiny_head()
    head.save(tmp_path, extra={"use_by_default": True})
    back = ExpressionHead.load(tmp_path)
    x = np.ones((1, 5))
    np.testing.assert_allclose(back.predict_proba(x), head.predict_proba(x), rtol=1e-5)
    assert back.meta["use_by_default"] is True and back.classes == head.classes


def test_broken_head_files(tmp_path):
    with pytest.raises(ModelError):
        ExpressionHead.load(tmp_path)  # nothing there
    _tiny_head().save(tmp_path)
    np.save(tmp_path / "bias.npy", np.zeros(9, np.float32))
    with pytest.raises(ModelError, match="do not fit"):
        ExpressionHead.load(tmp_path)
    meta = json.loads((tmp_path / "head.json").read_text())
    meta["blocks"] = ["pixels"]
    (tmp_path / "head.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="unknown blocks"):
        ExpressionHead.load(tmp_path)


def test_shipped_head_loads_and_is_small():
    if not (DEFAULT_FACE_MODEL_DIR / "head.json").is_file():
        pytest.fail("the trained face head is not shipped in assets/models/face")
    head = ExpressionHead.load(DEFAULT_FACE_MODEL_DIR)
    size = sum(p.stat().st_size for p in DEFAULT_FACE_MODEL_DIR.iterdir())
    assert size < 5_000_000
    assert set(head.classes) <= set(CANONICAL) and head.weights.shape[0] == head.mean.shape[0]
    assert isinstance(head.meta["use_by_default"], bool)
