"""The trained expression head: numpy evaluation, save/load round trip, refusal of broken files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from emoreason.errors import ConfigError, ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.expression import DEFAULT_FACE_MODEL_DIR, ExpressionHead


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


def test_analyzer_uses_head_only_when_default(tmp_path, face_rgb_for_head):
    from emoreason.perception.face.analyzer import FaceAnalyzer

    shutil.copy(DEFAULT_FACE_MODEL_DIR / "au_baseline.json", tmp_path / "au_baseline.json")
    assert FaceAnalyzer(model_dir=tmp_path).expression_model == "fer"  # no head there: fer, and said so
    src = ExpressionHead.load(DEFAULT_FACE_MODEL_DIR)
    for flag, expected in ((True, "face_head"), (False, "fer")):
        src.save(tmp_path, extra={**src.meta, "use_by_default": flag})
        analyzer = FaceAnalyzer(model_dir=tmp_path, static=True)
        analyzer.add_frame(0.0, face_rgb_for_head)
        out = analyzer.finish()
        assert out.details["expression_model"] == expected
        assert ("face_head" in out.models) is flag
    assert FaceAnalyzer(model_dir=tmp_path, face_model="head").expression_model == "face_head"
    assert FaceAnalyzer(model_dir=tmp_path, face_model="fer").expression_model == "fer"
    with pytest.raises(ConfigError):
        FaceAnalyzer(model_dir=tmp_path, face_model="vgg")
    (tmp_path / "head.json").unlink()
    with pytest.raises(ModelError, match="no trained head"):
        FaceAnalyzer(model_dir=tmp_path, face_model="head")


@pytest.fixture(scope="module")
def face_rgb_for_head():
    from skimage import data

    return np.ascontiguousarray(data.astronaut())
