"""The fer+facex log-linear pool: its formula, files, refusal of broken files, and its fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoreason.assets import asset_path
from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.expression import DEFAULT_FACE_MODEL_DIR
from emoreason.perception.face.image_models import log_probabilities
from emoreason.perception.face.pool import ExpressionPool
from emoreason.training.face_pool import fit_pool


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
                               pool.predict_proba(log_probabilities(fer_s), log_probabilities(facex_s),
                                                  a[:1])[0])


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
    (lambda m: m.update(au={"mean": [0.0] * 15, "std": [1.0] * 15, "weights": [[0.0] * 7] * 14}),
     "AU arrays"),
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


def test_shipped_pool_loads_and_assets_stay_small():
    pool = ExpressionPool.load(DEFAULT_FACE_MODEL_DIR)
    assert isinstance(pool.meta["use_by_default"], bool)
    assert pool.w_fer >= 0 and pool.w_facex >= 0
    total = sum(p.stat().st_size for p in asset_path().rglob("*") if p.is_file())
    assert total < 25_000_000
