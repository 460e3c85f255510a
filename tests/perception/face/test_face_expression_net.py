"""The FER+ network at run time: the shipped ONNX file, its crop, the registry, and the face's reliability."""

from __future__ import annotations

import shutil
import threading

import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.analyzer import UNREADABLE_FACTOR, UNREADABLE_LOW_WEIGHT, FaceAnalyzer
from emoreason.perception.face.expression import (
    DEFAULT_FACE_MODEL_DIR,
    NetExpression,
    NetPoolExpression,
    load_expression_model,
)
from emoreason.perception.face.expression_net import (
    FERPLUS_CLASSES,
    NET_FILE,
    NET_META,
    ExpressionNet,
    canonical_scores,
    net_crop,
)
from emoreason.perception.face.pool import NetPool

face_rgb, astronaut_points = _fx.face_rgb, _fx.astronaut_points
SHIPPED = DEFAULT_FACE_MODEL_DIR / NET_FILE


def test_the_shipped_network_reads_a_smiling_face_crop(face_rgb, astronaut_points):
    crop = net_crop(face_rgb, astronaut_points)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    net = ExpressionNet.load(SHIPPED)
    assert ExpressionNet.load(SHIPPED) is net  # one session per file per process
    probs = net.run(crop)
    assert probs.shape == (len(FERPLUS_CLASSES),) and probs.min() >= 0
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    scores, unreadable = canonical_scores(probs)
    assert sum(scores.values()) == pytest.approx(1.0) and list(scores) == list(CANONICAL)
    assert max(scores, key=scores.get) == "happy" and 0.0 <= unreadable < UNREADABLE_LOW_WEIGHT
    with pytest.raises(ValueError, match="48x48"):
        net.run(face_rgb[:, :, 0])


def test_run_is_thread_safe(face_rgb, astronaut_points):
    net = ExpressionNet.load(SHIPPED)
    crop = net_crop(face_rgb, astronaut_points)
    expected = net.run(crop)
    got: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: got.extend(net.run(crop) for _ in range(5))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 20 and all(np.allclose(g, expected, atol=1e-6) for g in got)


def test_canonical_scores_drop_contempt_and_split_off_unknown_and_nf():
    probs = np.array([0.1, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.3, 0.2])
    scores, unreadable = canonical_scores(probs)
    assert unreadable == pytest.approx(0.5)
    assert scores["neutral"] == pytest.approx(1 / 3) and scores["happy"] == pytest.approx(2 / 3)
    prior = np.array([0.4, 0.4, 0.05, 0.05, 0.05, 0.03, 0.01, 0.01])
    balanced, same = canonical_scores(probs, prior, power=1.0)  # neutral and happy: one prior, same ratio
    assert balanced["happy"] == pytest.approx(2 / 3) and same == unreadable
    probs[6] = 0.1  # a little fear, whose prior is 40 times smaller
    assert canonical_scores(probs, prior, 1.0)[0]["fearful"] > canonical_scores(probs)[0]["fearful"]


def test_the_registry_loads_the_network_and_a_missing_or_bad_file_is_a_model_error(tmp_path):
    model = load_expression_model("net")
    assert isinstance(model, NetExpression) and model.name == "ferplus_net" and model.net is not None
    assert "face_net" in model.provenance
    with pytest.raises(ModelError, match="no FER\\+ network"):
        load_expression_model("net", tmp_path)
    (tmp_path / NET_FILE).write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="cannot load"):
        load_expression_model("net", tmp_path)


def test_an_unreadable_face_gets_low_reliability_and_says_why(tmp_path, face_rgb, monkeypatch):
    for name in ("au_baseline.json", NET_FILE, NET_META):
        shutil.copy(DEFAULT_FACE_MODEL_DIR / name, tmp_path / name)
    clear = FaceAnalyzer(model_dir=tmp_path, face_model="net", static=True)
    clear.add_frame(0.0, face_rgb)
    out = clear.finish()
    assert out.details["expression_model"] == "ferplus_net" and "reliability_note" not in out.details
    assert out.reliability == pytest.approx(1.0)
    assert out.details["unreadable_probability"] < UNREADABLE_LOW_WEIGHT
    unclear = FaceAnalyzer(model_dir=tmp_path, face_model="net", static=True)
    probs = np.array([0.2, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.4])  # P(unknown) + P(NF) = 0.7
    monkeypatch.setattr(unclear.net, "run", lambda crop: probs)
    unclear.add_frame(0.0, face_rgb)
    out = unclear.finish()
    assert out.reliability == pytest.approx(UNREADABLE_FACTOR)
    assert "half weight" in out.details["reliability_note"]
    assert any(e.name == "unreadable_face" for e in out.evidence)


def test_the_net_pool_combines_the_three_models_and_is_the_shipped_default(tmp_path, face_rgb):
    model = load_expression_model("default")
    assert isinstance(model, NetPoolExpression) and model.name == "net_pool" and model.uses_facex
    pool = NetPool({"net": 1.0, "fer": 0.0, "facex": 0.0}, np.zeros(7))
    net_only = {c: 0.9 if c == "sad" else 0.1 / 6 for c in CANONICAL}
    other = {c: 0.9 if c == "happy" else 0.1 / 6 for c in CANONICAL}
    assert max(pool.scores({"net": net_only, "fer": other, "facex": None}).items(), key=lambda kv: kv[1])[0] \
        == "sad" and not pool.uses_facex  # facex's weight 0: it need not run
    pool.save(tmp_path, extra={"use_by_default": True})
    assert NetPool.load(tmp_path).weights == pool.weights
    for name in ("au_baseline.json", NET_FILE, NET_META):
        shutil.copy(DEFAULT_FACE_MODEL_DIR / name, tmp_path / name)
    analyzer = FaceAnalyzer(model_dir=tmp_path, static=True)
    assert analyzer.expression_model == "net_pool" and analyzer.facex is None
    analyzer.add_frame(0.0, face_rgb)
    out = analyzer.finish()
    assert max(out.scores, key=out.scores.get) == "happy" and "face_net" in out.models
    (tmp_path / NetPool.FILE).write_text('{"weights": {"net": -1}}')
    with pytest.raises(ModelError, match="net pool"):
        load_expression_model("net_pool", tmp_path)
