"""Comparing results across runs: a result's dict without the times it measured."""

from __future__ import annotations

from typing import Any


def without_timings(d: Any) -> Any:
    """``d`` (a result's dict, or a part of it) without its keys that begin with "timing" at any depth (the
    stage times, the voice model's ``timing_s``): they differ from run to run, the rest must not."""
    if isinstance(d, dict):
        return {k: without_timings(v) for k, v in d.items() if not k.startswith("timing")}
    if isinstance(d, list):
        return [without_timings(v) for v in d]
    return d
