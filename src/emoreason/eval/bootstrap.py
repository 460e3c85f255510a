"""Seeded percentile-bootstrap confidence intervals for any metric of (reference, prediction) pairs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A point estimate and its two-sided confidence interval."""

    value: float
    low: float
    high: float
    level: float = 0.95
    resamples: int = 0

    def as_dict(self) -> dict[str, float]:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "resamples": self.resamples,
        }


def bootstrap_ci(
    metric: Callable[[Sequence, Sequence], float],
    y_true: Sequence,
    y_pred: Sequence,
    *,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap: resample items with replacement ``resamples`` times, recompute ``metric``.

    The same ``seed`` gives the same interval. ``resamples=0`` returns the point estimate with NaN bounds.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    t = np.asarray(y_true, dtype=object if not _numeric(y_true) else float)
    p = np.asarray(y_pred, dtype=object if not _numeric(y_pred) else float)
    value = float(metric(t, p))
    if resamples <= 0:
        return Interval(value, float("nan"), float("nan"), level, 0)
    rng = np.random.default_rng(seed)
    n = len(t)
    stats = np.empty(resamples)
    for r in range(resamples):
        idx = rng.integers(0, n, size=n)
        stats[r] = metric(t[idx], p[idx])
    alpha = (1.0 - level) / 2
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return Interval(value, float(low), float(high), level, resamples)


def _numeric(values: Sequence) -> bool:
    return len(values) > 0 and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values
    )
