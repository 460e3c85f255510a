"""fer's and facex's tflite runners: input layout, class order, refusal of wrong files, the vendored files."""

from __future__ import annotations

import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest

from emoreason.assets import asset_path
from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.crops import face_crop_gray, face_square_gray, resize_like_skimage
from emoreason.perception.face.image_models import (
    FACEX_CLASSES,
    FER_MODEL,
    FacexClassifier,
    FerClassifier,
    log_probabilities,
)

face_rgb, astronaut_points = _fx.face_rgb, _fx.astronaut_points


@pytest.fixture(scope="module")
def facex():
    return FacexClassifier()


def test_fer_crop_and_features(face_rgb, astronaut_points):
    crop = face_crop_gray(face_rgb, astronaut_points)
    assert crop.shape == (64, 64) and crop.dtype == np.uint8 and crop.std() > 10
    scores, feats = FerClassifier().predict(crop)
    assert abs(sum(scores.values()) - 1) < 1e-6 and max(scores, key=scores.get) == "happy"
    assert feats.shape == (128,) and np.isfinite(feats).all()
    # a grey square is not read as a confident smile
    flat_scores, _ = FerClassifier().predict(np.full((64, 64), 127, np.uint8))
    assert flat_scores["happy"] < scores["happy"]


def test_preprocess_is_grey_on_three_channels():
    crop = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    x = FacexClassifier.preprocess(crop)
    assert x.shape == (1, 200, 200, 3) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(x[..., 0], x[..., 1])
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    with pytest.raises(ValueError):
        resize_like_skimage(np.zeros((4, 4, 3), np.uint8))


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
    assert log_probabilities(scores).shape == (7,) and log_probabilities(scores).min() >= np.log(1e-4)


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
