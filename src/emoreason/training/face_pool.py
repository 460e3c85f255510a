"""Fitting the fer+facex log-linear pool (:class:`~emoreason.perception.face.pool.ExpressionPool`) by
class-balanced log-loss; :mod:`emoreason.training.face` compares and ships the fitted pools.

scipy.optimize is imported inside :func:`fit_pool`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emoreason.perception.face.pool import ExpressionPool

#: Pool regularisers: (w_fer - w_facex)^2 (towards the equal-weight pool) and the biases' squared size.
POOL_LAM_EQUAL = 0.1
POOL_LAM_BIAS = 1e-3


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Per-sample weights n / (K * n_class): every class counts as much in total (sklearn's "balanced")."""
    counts = np.bincount(y)
    k = int(np.sum(counts > 0))
    return len(y) / (k * counts[y])


def balanced_log_loss(y: np.ndarray, k: int) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """The class-balanced log-loss of (n, ``k``) logits against the labels ``y`` (each sample weighted by
    :func:`balanced_weights`, the weights summing to 1), as a function of the logits that returns the loss
    and its gradient with respect to them: the data term both face pool fitters minimise."""
    sw = balanced_weights(y)
    sw = sw / sw.sum()
    onehot = np.eye(k)[y]
    rows = np.arange(len(y))

    def loss(z: np.ndarray) -> tuple[float, np.ndarray]:
        z = z - z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return -np.sum(sw * logp[rows, y]), (np.exp(logp) - onehot) * sw[:, None]

    return loss


def fit_pool(lf: np.ndarray, lx: np.ndarray, y: np.ndarray, au_raw: np.ndarray | None = None,
             au_c: float = 0.1, equal: bool = False, floor: float = 1e-4) -> ExpressionPool:
    """Fit an :class:`ExpressionPool` by class-balanced log-loss (L-BFGS-B, weights bounded at >= 0).

    ``lf``/``lx``: (n, 7) log-probabilities of fer / facex in canonical order; ``y``: canonical indices.
    ``floor``: each probability is floored there before the log (see :class:`ExpressionPool`).
    ``equal``: one shared weight (the equal-weight pool plus biases); else two weights with the penalty
    ``POOL_LAM_EQUAL * (w_fer - w_facex)^2``. AU weights get sklearn's L2, ``|W|^2 / (2 C n)``.
    """
    from scipy.optimize import minimize

    n, k = lf.shape
    lf, lx = np.maximum(lf, np.log(floor)), np.maximum(lx, np.log(floor))
    data_loss = balanced_log_loss(y, k)
    if au_raw is not None:
        mean, std = au_raw.mean(0), au_raw.std(0)
        std = np.where(std > 1e-9, std, 1.0)
        a = (au_raw - mean) / std
        d = a.shape[1]
    else:
        a, d = None, 0
    nw = 1 if equal else 2

    def unpack(theta):
        wf = theta[0]
        wx = theta[0] if equal else theta[1]
        b = theta[nw:nw + k]
        w = theta[nw + k:].reshape(d, k) if d else None
        return wf, wx, b, w

    def loss(theta):
        wf, wx, b, w = unpack(theta)
        z = wf * lf + wx * lx + b
        if d:
            z = z + a @ w
        val, g = data_loss(z)
        grad = np.empty_like(theta)
        gf, gx = float(np.sum(g * lf)), float(np.sum(g * lx))
        if equal:
            grad[0] = gf + gx
        else:
            val += POOL_LAM_EQUAL * (wf - wx) ** 2
            grad[0] = gf + 2 * POOL_LAM_EQUAL * (wf - wx)
            grad[1] = gx - 2 * POOL_LAM_EQUAL * (wf - wx)
        val += POOL_LAM_BIAS * np.sum(b ** 2)
        grad[nw:nw + k] = g.sum(0) + 2 * POOL_LAM_BIAS * b
        if d:
            lam = 1.0 / (2.0 * au_c * n)
            val += lam * np.sum(w ** 2)
            grad[nw + k:] = (a.T @ g + 2 * lam * w).ravel()
        return val, grad

    theta0 = np.concatenate([np.full(nw, 0.5), np.zeros(k), np.zeros(d * k)])
    bounds = [(0.0, None)] * nw + [(None, None)] * (k + d * k)
    r = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000})
    wf, wx, b, w = unpack(r.x)
    if d:
        return ExpressionPool(wf, wx, b, au_mean=mean, au_std=std, au_weights=w, floor=floor)
    return ExpressionPool(wf, wx, b, floor=floor)
