"""A check shared by the streaming face tests: an analyzer fed frames keeps numbers, not the frames."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import numpy as np


def frames_kept(add_frame: Callable[[float, np.ndarray], object], frame: np.ndarray, n: int) -> int:
    """How many of ``n`` copies of ``frame``, fed to ``add_frame`` at 5 fps (each copy dropped by the
    caller once fed), are still alive after a garbage collection: 0 when the analyzer kept none."""
    refs = []
    for i in range(n):
        copy = frame.copy()
        refs.append(weakref.ref(copy))
        add_frame(i * 0.2, copy)
        del copy
    gc.collect()
    return sum(r() is not None for r in refs)
