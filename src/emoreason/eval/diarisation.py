"""Diarisation scores: diarisation error rate (DER) and speaker-count accuracy.

DER is scored on a 10 ms grid, as NIST's md-eval does: over the reference's speech time, counted once per
reference speaker (overlapped speech counts twice),

    DER = (missed + false alarm + confusion) / reference speaker time

with, in each frame holding ``r`` reference and ``h`` hypothesis speakers, missed ``max(0, r - h)``,
false alarm ``max(0, h - r)`` and confusion ``min(r, h)`` minus the speakers that are correct under the
one-to-one mapping of hypothesis to reference speakers that maximises the time they share (Hungarian
algorithm). A ``collar`` (seconds) leaves out the frames within ``collar`` of any reference turn's start
or end (0.25 s is the usual forgiving setting). Turns are ``(start, end, speaker)`` with any hashable
speaker ids; a hypothesis may be the turns of ``perception.speech.diarize`` as tuples.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

STEP = 0.01  # seconds per scoring frame

Turn = tuple[float, float, Hashable]


@dataclass(frozen=True)
class DerScore:
    """Seconds of each error kind and of scored reference speech; ``der`` is their ratio."""

    missed: float
    false_alarm: float
    confusion: float
    scored: float

    @property
    def der(self) -> float:
        return (self.missed + self.false_alarm + self.confusion) / self.scored if self.scored > 0 else 0.0


def _grid(turns: Sequence[Turn], n: int) -> tuple[np.ndarray, list[Hashable]]:
    """(n_speakers, n) boolean activity on the 10 ms grid, and the speaker ids in row order."""
    ids = list(dict.fromkeys(s for _, _, s in turns))
    act = np.zeros((len(ids), n), dtype=bool)
    for a, b, s in turns:
        i, j = int(round(a / STEP)), int(round(b / STEP))
        act[ids.index(s), max(0, i):max(0, min(n, j))] = True
    return act, ids


def der(reference: Sequence[Turn], hypothesis: Sequence[Turn], collar: float = 0.0) -> DerScore:
    """The DER of ``hypothesis`` against ``reference`` (see the module docstring)."""
    end = max([b for _, b, _ in list(reference) + list(hypothesis)], default=0.0)
    n = int(round(end / STEP)) + 1
    ref, _ = _grid(reference, n)
    hyp, _ = _grid(hypothesis, n)
    keep = np.ones(n, dtype=bool)
    if collar > 0:
        c = int(round(collar / STEP))
        for a, b, _ in reference:
            for edge in (int(round(a / STEP)), int(round(b / STEP))):
                keep[max(0, edge - c):max(0, edge + c)] = False
    ref, hyp = ref[:, keep], hyp[:, keep]
    r, h = ref.sum(axis=0), hyp.sum(axis=0)
    correct = 0
    if len(ref) and len(hyp):
        shared = ref.astype(np.int64) @ hyp.T.astype(np.int64)  # frames each pair is active together
        rows, cols = linear_sum_assignment(-shared)
        correct = int(shared[rows, cols].sum())
    return DerScore(missed=float(np.maximum(r - h, 0).sum() * STEP),
                    false_alarm=float(np.maximum(h - r, 0).sum() * STEP),
                    confusion=float((np.minimum(r, h).sum() - correct) * STEP),
                    scored=float(r.sum() * STEP))


def total_der(scores: Sequence[DerScore]) -> float:
    """The DER of several recordings pooled (errors summed over scored time summed)."""
    scored = sum(s.scored for s in scores)
    errors = sum(s.missed + s.false_alarm + s.confusion for s in scores)
    return errors / scored if scored > 0 else 0.0


def count_accuracy(true_counts: Sequence[int], found_counts: Sequence[int]) -> float:
    """Share of recordings whose number of speakers was found exactly."""
    if len(true_counts) != len(found_counts) or not true_counts:
        raise ValueError("count_accuracy needs two equally long, non-empty sequences")
    return float(np.mean([t == f for t, f in zip(true_counts, found_counts)]))
