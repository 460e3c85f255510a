"""facex's tflite runner (our crop and skimage-equivalent resize) and the fer+facex log-linear pool."""

from __future__ import annotations

import json

import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.assets import asset_path
from emoreason.errors import ConfigError, ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.expression import (
    DEFAULT_FACE_MODEL_DIR,
    FACEX_CLASSES,
    FER_MODEL,
    ExpressionPool,
    FacexClassifier,
    face_square_gray,
    facex_logp,
    fer_logp,
    resize_like_skimage,
)

face_rgb, small_face_rgb = _fx.face_rgb, _fx.small_face_rgb


@pytest.fixture(scope="module")
def facex():
    return FacexClassifier()


@pytest.fixture(scope="module")
def astronaut_points(face_rgb):
    from emoreason.perception.face.mesh import FaceMeshTracker

    with FaceMeshTracker(static=True) as tracker:
        face, _ = tracker.main_face(face_rgb)
    assert face is not None
    return face.points


@pytest.mark.parametrize("side", [1, 3, 57, 120, 200, 263, 480])
def test_resize_reproduces_skimage(side):
    from skimage.transform import resize

    rng = np.random.default_rng(side)
    gray = rng.integers(0, 256, size=(side, side), dtype=np.uint8)
    gray[side // 3:, : side // 2] //= 3  # some structure, not only noise
    want = resize(gray, (200, 200, 3))  # what facex's own pipeline feeds its model
    got = resize_like_skimage(gray, 200)
    assert got.dtype == np.float32 and got.shape == (200, 200)
    np.testing.assert_allclose(got, want[..., 0], atol=1e-5)
    np.testing.assert_allclose(want[..., 0], want[..., 2])  # grey is repeated on the 3 channels


def test_preprocess_is_grey_on_three_channels():
    crop = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    x = FacexClassifier.preprocess(crop)
    assert x.shape == (1, 200, 200, 3) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(x[..., 0], x[..., 1])
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    with pytest.raises(ValueError):
        resize_like_skimage(np.zeros((4, 4, 3), np.uint8))


def test_face_square_is_square_and_padded_at_the_edge():
    rgb = np.zeros((100, 80, 3), np.uint8)
    rgb[:, :40] = 200
    pts = np.array([[0.0, 10.0, 0.0], [30.0, 50.0, 0.0]])  # box 30 x 40 touching the left edge
    sq = face_square_gray(rgb, pts, margin=0.25, shift=0.0)
    assert sq.shape == (60, 60)
    assert sq[:, 0].min() == sq[:, 0].max()  # repeated edge column, not black
    assert face_square_gray(rgb, pts, margin=0.0).shape == (40, 40)


def test_facex_order_maps_onto_canonical_labels(facex, face_rgb, astronaut_points):
    crop = face_square_gray(face_rgb, astronaut_points)
    raw = facex.predict_raw(crop)
    assert raw.shape == (7,) and raw.sum() == pytest.approx(1.0, abs=1e-4)
    scores = facex.predict(crop)
    assert list(scores) == list(CANONICAL)
    for label in CANONICAL:
        assert scores[label] == pytest.approx(raw[FACEX_CLASSES.index(label)] / raw.sum())
    assert max(scores, key=scores.get) == "happy"  # the astronaut smiles; facex's index 3 is 'happy'
    assert FACEX_CLASSES[3] == "happy" and FACEX_CLASSES[5] == "sad"
    assert facex_logp(scores).shape == (7,) and facex_logp(scores).min() >= np.log(1e-4)


def test_facex_refuses_wrong_files(tmp_path):
    with pytest.raises(ModelError, match="missing"):
        FacexClassifier(tmp_path / "nope.tflite")
    with pytest.raises(ModelError, match="does not look like facex"):
        FacexClassifier(FER_MODEL)  # a real tflite, but 64x64 grey in
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer" * 10)
    with pytest.raises(ModelError, match="cannot load"):
        FacexClassifier(junk)


def test_facex_is_vendored_with_its_licence():
    d = asset_path("facex")
    assert (d / "model_optimized.tflite").stat().st_size == 2_615_520
    assert "MIT License" in (d / "LICENSE.txt").read_text()
    assert "facex" in (d / "SOURCE.md").read_text()


# ---- the pool --------------------------------------------------------------------------------------------
def _pool(au: bool = False) -> ExpressionPool:
    rng = np.random.default_rng(0)
    if not au:
        return ExpressionPool(0.7, 1.3, rng.normal(size=7))
    return ExpressionPool(0.7, 1.3, rng.normal(size=7), au_mean=rng.normal(size=15),
                          au_std=rng.uniform(0.5, 2, size=15), au_weights=rng.normal(size=(15, 7)) * 0.1)


def test_pool_matches_its_formula():
    pool = _pool(au=True)
    rng = np.random.default_rng(1)
    lf, lx, a = (np.log(rng.dirichlet(np.ones(7), size=3)), np.log(rng.dirichlet(np.ones(7), size=3)),
                 rng.normal(size=(3, 15)))
    z = 0.7 * lf + 1.3 * lx + pool.bias + ((a - pool.au_mean) / pool.au_std) @ pool.au_weights
    want = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(pool.predict_proba(lf, lx, a), want, rtol=1e-10)
    with pytest.raises(ModelError, match="AU"):
        pool.predict_proba(lf, lx)
    fer_s = dict(zip(CANONICAL, np.exp(lf[0]), strict=True))
    facex_s = dict(zip(CANONICAL, np.exp(lx[0]), strict=True))
    s = pool.scores(fer_s, facex_s, a[0])
    assert list(s) == list(CANONICAL) and sum(s.values()) == pytest.approx(1.0)
    np.testing.assert_allclose([s[c] for c in CANONICAL],
                               pool.predict_proba(fer_logp(fer_s), facex_logp(facex_s), a[:1])[0])


@pytest.mark.parametrize("au", [False, True])
def test_pool_round_trip(tmp_path, au):
    pool = _pool(au)
    pool.save(tmp_path, extra={"use_by_default": True})
    back = ExpressionPool.load(tmp_path)
    assert back.meta["use_by_default"] is True and back.uses_au is au
    rng = np.random.default_rng(2)
    lf, lx = np.log(rng.dirichlet(np.ones(7), size=2)), np.log(rng.dirichlet(np.ones(7), size=2))
    a = rng.normal(size=(2, 15)) if au else None
    np.testing.assert_allclose(back.predict_proba(lf, lx, a), pool.predict_proba(lf, lx, a), rtol=1e-12)
    assert "pickle" not in (tmp_path / "pool.json").read_text()


@pytest.mark.parametrize("change, message", [
    (lambda m: m.pop("w_facex"), "w_facex"),
    (lambda m: m.update(w_fer=-0.5), ">= 0"),
    (lambda m: m.update(bias=[0.0] * 6), "bias"),
    (lambda m: m.update(classes=list(reversed(CANONICAL))), "canonical classes"),
    (lambda m: m.update(au={"mean": [0.0] * 15, "std": [1.0] * 15, "weights": [[0.0] * 7] * 14}), "AU arrays"),
    (lambda m: m.update(bias="zero"), "cannot load"),
])
def test_broken_pool_files_are_model_errors(tmp_path, change, message):
    _pool().save(tmp_path)
    meta = json.loads((tmp_path / "pool.json").read_text())
    change(meta)
    (tmp_path / "pool.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=message):
        ExpressionPool.load(tmp_path)


def test_missing_or_garbled_pool_file(tmp_path):
    with pytest.raises(ModelError, match="cannot load the face pool"):
        ExpressionPool.load(tmp_path)
    (tmp_path / "pool.json").write_bytes(b"\x00\xff not json")
    with pytest.raises(ModelError, match="cannot load the face pool"):
        ExpressionPool.load(tmp_path / "pool.json")
    (tmp_path / "pool.json").write_text("[1, 2]")
    with pytest.raises(ModelError, match="not a JSON object"):
        ExpressionPool.load(tmp_path)


def test_fit_pool_keeps_weights_non_negative_and_learns_biases():
    from emoreason.training.face import fit_pool

    rng = np.random.default_rng(0)
    n = 600
    y = rng.integers(0, 7, size=n)
    good = np.log(np.clip(np.eye(7)[y] * 0.6 + rng.dirichlet(np.ones(7), size=n) * 0.4, 1e-4, 1))
    anti = np.log(np.clip(1 - np.eye(7)[y] + 0.05, 1e-4, 1))  # a model that is wrong on purpose
    pool = fit_pool(good, anti, y)
    assert pool.w_fer > 0.5 and pool.w_facex >= 0.0  # bounded at 0, never negative
    assert np.mean(pool.predict_proba(good, anti).argmax(1) == y) > 0.9
    eq = fit_pool(good, good, y, equal=True)
    assert eq.w_fer == eq.w_facex
    with_au = fit_pool(good, good, y, au_raw=rng.normal(size=(n, 15)), au_c=0.01)
    assert with_au.uses_au and with_au.au_weights.shape == (15, 7)


# ---- the shipped files and the analyzer ----------------------------------------------------------------
def test_shipped_pool_loads_and_assets_stay_small():
    pool = ExpressionPool.load(DEFAULT_FACE_MODEL_DIR)
    assert isinstance(pool.meta["use_by_default"], bool)
    assert pool.w_fer >= 0 and pool.w_facex >= 0
    total = sum(p.stat().st_size for p in asset_path().rglob("*") if p.is_file())
    assert total < 25_000_000


def test_analyzer_expression_choices(tmp_path, face_rgb):
    import shutil

    from emoreason.perception.face.analyzer import FaceAnalyzer, analyze_face_image

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


def test_default_analyze_on_an_image(tmp_path, face_rgb):
    import cv2

    from emoreason.api import analyze

    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(face_rgb, cv2.COLOR_RGB2BGR))
    result = analyze(path)
    face = result.modalities["face"]
    assert face.used and result.duration is None
    want = "pool" if ExpressionPool.load(DEFAULT_FACE_MODEL_DIR).meta["use_by_default"] else "fer"
    assert face.details["expression_model"] == want
    assert result.label == "happy" and face.label == "happy"


def test_video_runs_facex_every_other_frame_and_reuses_it(small_face_rgb):
    from emoreason.perception.face.analyzer import FaceAnalyzer

    for every, runs in ((2, 3), (1, 6)):
        analyzer = FaceAnalyzer(fps=5.0, face_model="pool", facex_every=every)
        for i in range(6):
            analyzer.add_frame(i / 5, small_face_rgb)
        out = analyzer.finish()
        assert out.details["facex_runs"] == runs and out.details["frames_with_face"] == 6
    with pytest.raises(ConfigError):
        FaceAnalyzer(facex_every=0)
    assert FaceAnalyzer(static=True).facex_every == 1


def test_facex_runs_again_when_the_face_moves(small_face_rgb):
    import cv2

    from emoreason.perception.face.analyzer import FaceAnalyzer

    canvas = np.full((256, 512, 3), 60, np.uint8)
    left, right = canvas.copy(), canvas.copy()
    left[:, :256] = small_face_rgb
    right[:, 256:] = cv2.flip(small_face_rgb, 1)
    analyzer = FaceAnalyzer(fps=5.0, face_model="pool", facex_every=10)
    for i, frame in enumerate([left, left, right, right]):
        analyzer.add_frame(i / 5, frame)
    assert analyzer.finish().details["facex_runs"] == 2


def test_flat_crops_are_stretched_and_ordinary_ones_left_alone(face_rgb, astronaut_points):
    from emoreason.perception.face.expression import FLAT_CROP_RANGE, face_crop_gray, stretch_flat

    normal = face_crop_gray(face_rgb, astronaut_points)
    assert np.array_equal(normal, face_crop_gray(face_rgb, astronaut_points, flat_range=0))  # untouched
    dark = (face_rgb.astype(np.float64) * 0.25).astype(np.uint8)  # two stops under-exposed
    raw = face_crop_gray(dark, astronaut_points, flat_range=0)
    lo, hi = np.percentile(raw, [1, 99])
    assert hi - lo < FLAT_CROP_RANGE
    out = face_crop_gray(dark, astronaut_points)
    lo, hi = np.percentile(out, [1, 99])
    assert lo <= 2 and hi >= 253  # stretched onto the full range
    assert np.corrcoef(out.ravel(), raw.ravel())[0, 1] > 0.99  # by a monotone linear map
    square = face_square_gray(dark, astronaut_points)
    assert np.ptp(np.percentile(square, [1, 99])) >= 250
    flat = np.full((10, 10), 77, np.uint8)
    assert np.array_equal(stretch_flat(flat), flat)  # nothing to stretch


def test_face_model_option_reaches_the_face_stage_and_is_checked(tmp_path, face_rgb, capsys):
    """analyze(face_model=...) / --face-model pick the face stage's expression model, so the default can be
    compared with its peers on a user's own corpus; a wrong name is a ConfigError (exit 2 on the CLI)."""
    import cv2

    from emoreason.api import analyze
    from emoreason.cli.main import main

    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(face_rgb, cv2.COLOR_RGB2BGR))
    default = analyze(path, modalities=["face"]).modalities["face"]
    results = {m: analyze(path, modalities=["face"], face_model=m) for m in ("fer", "facex")}
    by_name = {m: r.modalities["face"] for m, r in results.items()}
    assert by_name["fer"].details["expression_model"] == "fer" and "facex" not in results["fer"].provenance["models"]
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
    import json

    assert json.loads(out.read_text())["modalities"]["face"]["details"]["expression_model"] == "fer"
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(path), "--face-model", "vgg"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err
