"""The FER+ network's training code: data loading, augmentation, one training step, scores, ONNX export."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from emoreason.errors import InputNotFoundError  # noqa: E402
from emoreason.perception.face.expression_net import FERPLUS_CLASSES, ExpressionNet  # noqa: E402
from emoreason.training.ferplus.data import FerSplit, augment, load_split, to_tensor  # noqa: E402
from emoreason.training.ferplus.net import FerNet  # noqa: E402
from emoreason.training.ferplus.pool import cross_validated, fit_net_pool  # noqa: E402
from emoreason.training.ferplus.train import (  # noqa: E402
    META_FILE,
    ONNX_FILE,
    choose_prior_power,
    emotion_prior,
    export_onnx,
    score,
    soft_cross_entropy,
    train,
)

TINY = (4, 8)


def _split(n: int = 8, seed: int = 0) -> FerSplit:
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, 5, size=(n, len(FERPLUS_CLASSES))).astype(np.float32)
    votes[:, 0] += 1  # every face has a vote
    return FerSplit(rng.integers(0, 256, size=(n, 48, 48), dtype=np.uint8), votes, votes.argmax(1))


def test_load_split_reads_votes_and_images(tmp_path):
    (tmp_path / "valid").mkdir()
    header = "path,majority," + ",".join(FERPLUS_CLASSES)
    rows = ["valid/a.png,happiness,1,8,0,0,0,0,0,0,1,0", "valid/b.png,NF,0,0,0,0,0,0,0,0,0,10",
            "valid/c.png,neutral,0,0,0,0,0,0,0,0,0,0"]  # c: no votes, skipped
    (tmp_path / "valid_labels.csv").write_text("\n".join([header, *rows]) + "\n")
    for name, v in (("a", 10), ("b", 200)):
        cv2.imwrite(str(tmp_path / "valid" / f"{name}.png"), np.full((48, 48), v, np.uint8))
    split = load_split(tmp_path, "valid")
    assert split.images.shape == (2, 48, 48) and split.images[1, 0, 0] == 200
    assert split.majority.tolist() == [1, 9]
    np.testing.assert_allclose(split.targets.sum(1), 1.0)
    assert split.targets[0, 1] == pytest.approx(0.8)
    with pytest.raises(InputNotFoundError):
        load_split(tmp_path, "train")


def test_augment_keeps_shape_range_and_is_seeded():
    x = to_tensor(_split(16).images)
    a = augment(x, torch.Generator().manual_seed(3))
    b = augment(x, torch.Generator().manual_seed(3))
    assert a.shape == x.shape and float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, b) and not torch.equal(a, x)


def test_one_training_step_on_eight_images_writes_the_model(tmp_path):
    split = _split(8)
    model, history = train(split, split, tmp_path, epochs=1, batch=8, lr=1e-3, seed=0, log=lambda s: None,
                           widths=TINY)
    assert len(history) == 1 and np.isfinite(history[0]["loss"])
    assert 0.0 <= history[0]["valid"]["majority_accuracy"] <= 1.0
    meta = json.loads((tmp_path / META_FILE).read_text())
    assert meta["widths"] == list(TINY) and meta["classes"] == list(FERPLUS_CLASSES)
    assert ExpressionNet(tmp_path / ONNX_FILE).run(split.images[0]).shape == (len(FERPLUS_CLASSES),)


def test_soft_cross_entropy_is_lowest_at_the_target():
    t = torch.tensor([[0.7, 0.3, 0.0]])
    at_target = soft_cross_entropy(torch.log(torch.tensor([[0.7, 0.3, 1e-9]])), t)
    elsewhere = soft_cross_entropy(torch.log(torch.tensor([[0.3, 0.7, 1e-9]])), t)
    assert float(at_target) < float(elsewhere)


def test_score_counts_majority_votes_over_the_eight_emotions():
    split = _split(4)
    split.majority = np.array([0, 1, 2, 9])  # the NF face is left out of the accuracy
    probs = np.zeros((4, len(FERPLUS_CLASSES)))
    probs[0, 0] = probs[1, 1] = 1.0
    probs[2, 8] = 0.6  # "unknown" is not an emotion: the emotions' argmax (class 3) is the prediction
    probs[2, 3] = 0.4
    probs[3, 9] = 1.0
    s = score(probs, split)
    assert s["n"] == 3 and s["majority_accuracy"] == pytest.approx(2 / 3)
    assert s["p_unknown_nf_on_unknown_nf"] == pytest.approx(1.0)


def test_onnx_export_matches_torch(tmp_path):
    torch.manual_seed(0)
    model = FerNet(TINY).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
    export_onnx(model, tmp_path / ONNX_FILE)
    crop = _split(1).images[0]
    x = to_tensor(np.stack([crop, crop[:, ::-1]]))
    with torch.no_grad():
        expected = torch.softmax(model(x), 1).mean(0).numpy()
    got = ExpressionNet(tmp_path / ONNX_FILE).run(crop)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert got.sum() == pytest.approx(1.0)


def test_the_prior_correction_is_chosen_by_canonical_uar():
    split = _split(6)
    split.majority = np.array([0, 0, 0, 0, 6, 6])  # four neutral faces, two fearful
    probs = np.zeros((6, len(FERPLUS_CLASSES)))
    probs[:, 0], probs[:, 6] = 0.8, 0.2  # the network prefers neutral, less so on the fearful faces
    probs[4:, 0], probs[4:, 6] = 0.6, 0.4
    prior = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.02, 0.02, 0.01])
    power, table = choose_prior_power(probs, split, prior)
    assert table["0.0"]["uar"] == pytest.approx(0.5)  # neutral only: recall 1 and 0
    assert power > 0 and table[str(power)]["recall"]["fearful"] == 1.0
    assert emotion_prior(split).sum() == pytest.approx(1.0)


def test_the_net_pool_fit_weights_the_informative_model():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(7), 30)
    good = np.full((len(y), 7), 0.05)
    good[np.arange(len(y)), y] = 0.7
    noise = rng.dirichlet(np.ones(7), size=len(y))
    probs = {"net": good, "fer": noise, "facex": rng.dirichlet(np.ones(7), size=len(y))}
    pool = fit_net_pool(probs, y)
    assert pool.weights["net"] > 5 * max(pool.weights["fer"], pool.weights["facex"])
    assert cross_validated(probs, y)["uar"] == pytest.approx(1.0)
