"""The registry of expression models: names, the default's rule, the choice reaching the face stage."""

from __future__ import annotations

import json
import shutil

import cv2
import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.api import analyze
from emoreason.cli.main import main
from emoreason.errors import ConfigError, ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face import action_units as au
from emoreason.perception.face.analyzer import FaceAnalyzer, analyze_face_image
from emoreason.perception.face.expression import (
    DEFAULT_FACE_MODEL_DIR,
    EXPRESSION_MODELS,
    FACE_MODELS,
    FaceReadings,
    FacexExpression,
    FerExpression,
    HeadExpression,
    PoolExpression,
    check_face_model,
    load_expression_model,
)
from emoreason.perception.face.head import ExpressionHead
from emoreason.perception.face.pool import ExpressionPool

face_rgb, astronaut_points = _fx.face_rgb, _fx.astronaut_points


def _pool() -> ExpressionPool:
    return ExpressionPool(0.7, 1.3, np.random.default_rng(0).normal(size=7))


def test_analyzer_expression_choices(tmp_path, face_rgb):
    shutil.copy(DEFAULT_FACE_MODEL_DIR / "au_baseline.json", tmp_path / "au_baseline.json")
    with pytest.raises(ModelError, match="no fer\\+facex pool"):
        FaceAnalyzer(model_dir=tmp_path, face_model="pool")
    _pool().save(tmp_path, extra={"use_by_default": True, "name": "test pool"})
    out = analyze_face_image(face_rgb, model_dir=tmp_path)
    assert out.details["expression_model"] == "pool" and "facex" in out.models and "face_pool" in out.models
    assert sum(out.scores.values()) == pytest.approx(1.0)
    out = analyze_face_image(face_rgb, model_dir=tmp_path, face_model="facex")
    assert out.details["expression_model"] == "facex" and max(out.scores, key=out.scores.get) == "happy"
    out = analyze_face_image(face_rgb, model_dir=tmp_path, face_model="fer")
    assert out.details["expression_model"] == "fer" and "facex" not in out.models
    (tmp_path / "pool.json").write_text("{}")
    with pytest.raises(ModelError):
        FaceAnalyzer(model_dir=tmp_path)
    with pytest.raises(ConfigError):
        FaceAnalyzer(model_dir=tmp_path, face_model="vgg")


def test_analyzer_uses_head_only_when_default(tmp_path, face_rgb):
    shutil.copy(DEFAULT_FACE_MODEL_DIR / "au_baseline.json", tmp_path / "au_baseline.json")
    assert FaceAnalyzer(model_dir=tmp_path).expression_model == "fer"  # no head there: fer, and said so
    src = ExpressionHead.load(DEFAULT_FACE_MODEL_DIR)
    for flag, expected in ((True, "face_head"), (False, "fer")):
        src.save(tmp_path, extra={**src.meta, "use_by_default": flag})
        analyzer = FaceAnalyzer(model_dir=tmp_path, static=True)
        analyzer.add_frame(0.0, face_rgb)
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


def test_default_analyze_on_an_image(tmp_path, face_rgb):
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(face_rgb, cv2.COLOR_RGB2BGR))
    result = analyze(path)
    face = result.modalities["face"]
    assert face.used and result.duration is None
    want = load_expression_model("default").name
    assert face.details["expression_model"] == want
    assert result.label == "happy" and face.label == "happy"


def test_face_model_option_reaches_the_face_stage_and_is_checked(tmp_path, face_rgb, capsys):
    """analyze(face_model=...) / --face-model pick the face stage's expression model, so the default can be
    compared with its peers on a user's own corpus; a wrong name is a ConfigError (exit 2 on the CLI)."""
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(face_rgb, cv2.COLOR_RGB2BGR))
    default = analyze(path, modalities=["face"]).modalities["face"]
    results = {m: analyze(path, modalities=["face"], face_model=m) for m in ("fer", "facex")}
    by_name = {m: r.modalities["face"] for m, r in results.items()}
    assert by_name["fer"].details["expression_model"] == "fer"
    assert "facex" not in results["fer"].provenance["models"]
    assert by_name["facex"].details["expression_model"] == "facex"
    assert by_name["fer"].scores != by_name["facex"].scores
    assert analyze(face_rgb, modalities=["face"], face_model="default").modalities["face"].scores \
        == pytest.approx(default.scores)  # an array and "default" take the same path as the file
    with pytest.raises(ConfigError, match="face model must be one of"):
        analyze(path, face_model="vgg")
    with pytest.raises(ConfigError, match="own face encoders"):
        analyze(path, face_model="fer", model=tmp_path)
    out = tmp_path / "r.json"
    assert main(["analyze", str(path), "--modalities", "face", "--face-model", "fer", "-o", str(out),
                 "--no-progress"]) == 0
    assert json.loads(out.read_text())["modalities"]["face"]["details"]["expression_model"] == "fer"
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(path), "--face-model", "vgg"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_one_registry_names_every_choice():
    names = ("default", "fer", "facex", "pool", "head", "net", "net_pool")
    assert FACE_MODELS == ("default", *EXPRESSION_MODELS) == names
    assert check_face_model(None) is None and check_face_model("default") is None
    assert [check_face_model(m) for m in EXPRESSION_MODELS] == list(EXPRESSION_MODELS)
    for wrong in ("vgg", "", "FER", 3):
        with pytest.raises(ConfigError, match="face model must be one of " + ", ".join(names)):
            check_face_model(wrong)


def test_default_takes_the_first_shipped_model_marked_default(tmp_path):
    def chosen() -> str:
        return load_expression_model("default", tmp_path).name

    assert chosen() == "fer"  # an empty folder: fer alone
    head = ExpressionHead.load(DEFAULT_FACE_MODEL_DIR)
    head.save(tmp_path, extra={**head.meta, "use_by_default": True})
    assert chosen() == "face_head"
    _pool().save(tmp_path, extra={"use_by_default": False})
    assert chosen() == "face_head"  # the pool is there but not marked
    _pool().save(tmp_path, extra={"use_by_default": True})
    assert chosen() == "pool"  # the pool comes first
    assert load_expression_model("head", tmp_path).name == "face_head"
    assert load_expression_model("facex", tmp_path).uses_facex
    assert not load_expression_model("fer", tmp_path).uses_facex
    assert load_expression_model("head", tmp_path).uses_facex is ("facex_logp" in head.blocks)
    assert load_expression_model(None).name == load_expression_model("default", DEFAULT_FACE_MODEL_DIR).name


def test_each_model_combines_the_readings_it_needs(face_rgb, astronaut_points):
    rng = np.random.default_rng(0)
    fer = dict(zip(CANONICAL, rng.dirichlet(np.ones(7)), strict=True))
    facex = dict(zip(CANONICAL, rng.dirichlet(np.ones(7)), strict=True))
    au_raw = au.raw_vector(astronaut_points)
    readings = FaceReadings(astronaut_points, au_raw, fer, rng.normal(size=128), facex)
    blocks = readings.feature_blocks()
    assert list(blocks) == list(ExpressionHead.BLOCKS)
    np.testing.assert_array_equal(blocks["shape"], au.shape_vector(astronaut_points))
    without_facex = FaceReadings(astronaut_points, au_raw, fer, readings.fer_features)
    assert "facex_logp" not in without_facex.feature_blocks()
    pool = _pool()
    assert PoolExpression(pool).scores(readings) == pool.scores(fer, facex, readings.au_raw)
    assert FerExpression().scores(readings) is fer and FacexExpression().scores(readings) is facex
    head = ExpressionHead.load(DEFAULT_FACE_MODEL_DIR)
    assert HeadExpression(head).scores(readings) == head.scores(blocks)
    assert HeadExpression(head).provenance == {"face_head": head.meta["name"]}
