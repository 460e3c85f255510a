"""Late fusion: per-modality probabilities, weighted by each modality's reliability, into one decision.

Each usable modality m contributes its pooled probabilities p_m, sharpened or softened by a
per-modality temperature T_m (p ∝ p_m^(1/T_m)), with weight w_m = prior_m × reliability_m. The
fused distribution is the weighted mean Σ w_m p_m / Σ w_m (linear opinion pool: robust when one
modality is over-confident, and each modality's share of the decision is simply w_m / Σ w).
Priors and temperatures come from ``assets/models/fusion.json`` (see its ``note`` for how they were set).
A modality that is missing or unusable drops out; only when none is usable is it an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from emoreason.assets import asset_path
from emoreason.errors import NoUsableModalityError
from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput, TimedScores
from emoreason.result import Segment

MAX_SEGMENT = 10.0  # seconds: longer stretches are cut into windows of at most this length


@dataclass
class FusionConfig:
    priors: dict[str, float] = field(default_factory=lambda: {"face": 1.0, "voice": 1.0, "text": 1.0})
    temperatures: dict[str, float] = field(default_factory=lambda: {"face": 1.0, "voice": 1.0, "text": 1.0})
    note: str = ""

    @classmethod
    def default(cls) -> FusionConfig:
        path = asset_path("models", "fusion.json")
        if not path.is_file():
            return cls(note="equal priors, no temperature scaling (no fusion.json shipped)")
        d = json.loads(path.read_text())
        return cls(priors=dict(d["priors"]), temperatures=dict(d["temperatures"]), note=d.get("note", ""))


@dataclass
class Fused:
    scores: dict[str, float]
    shares: dict[str, float]  # each usable modality's share of the decision (sums to 1)
    segments: list[Segment]


def calibrate(scores: Mapping[str, float], temperature: float) -> np.ndarray:
    p = np.array([max(float(scores.get(lab, 0.0)), 1e-8) for lab in CANONICAL])
    logp = np.log(p) / max(temperature, 1e-3)
    q = np.exp(logp - logp.max())
    return q / q.sum()


def fuse(outputs: Mapping[str, ModalityOutput], duration: float | None,
         config: FusionConfig | None = None) -> Fused:
    config = config or FusionConfig.default()
    usable = {m: o for m, o in outputs.items() if o.usable and o.scores}
    if not usable:
        reasons = "; ".join(f"{m}: {o.reason}" for m, o in outputs.items()) or "no modality was requested"
        raise NoUsableModalityError(f"nothing to analyse ({reasons})")
    weights = {m: config.priors.get(m, 1.0) * max(o.reliability, 0.0) for m, o in usable.items()}
    if sum(weights.values()) <= 0:
        weights = dict.fromkeys(usable, 1.0)
    total = sum(weights.values())
    shares = {m: w / total for m, w in weights.items()}
    fused = sum(shares[m] * calibrate(o.scores, config.temperatures.get(m, 1.0)) for m, o in usable.items())
    scores = {lab: float(v) for lab, v in zip(CANONICAL, fused / fused.sum())}
    segments = build_segments(usable, duration, weights, config)
    return Fused(scores=scores, shares=shares, segments=segments)


def segment_bounds(outputs: Mapping[str, ModalityOutput],
                   duration: float | None) -> list[tuple[float, float]]:
    """Speech turns where there is speech (from the voice or text timeline), windows ≤ 10 s elsewhere."""
    end_all = duration or max((t.end for o in outputs.values() for t in o.timeline), default=0.0)
    if end_all <= 0:
        return [(0.0, 0.0)]
    source = outputs.get("voice") or outputs.get("text")
    turns = sorted((t.start, t.end) for t in source.timeline) if source is not None else []
    bounds: list[tuple[float, float]] = []
    cursor = 0.0
    for s, e in turns:
        s, e = max(s, cursor), min(e, end_all)
        if e <= s:
            continue
        if s - cursor > 0.5:
            bounds.extend(_windows(cursor, s))
        elif bounds:  # absorb a short gap into the previous segment
            bounds[-1] = (bounds[-1][0], s)
        else:
            s = cursor
        bounds.extend(_windows(s, e))
        cursor = e
    if end_all - cursor > 0.5 or not bounds:
        bounds.extend(_windows(cursor, end_all))
    elif bounds:
        bounds[-1] = (bounds[-1][0], end_all)
    return bounds


def _windows(start: float, end: float) -> list[tuple[float, float]]:
    n = max(1, int(np.ceil((end - start) / MAX_SEGMENT - 1e-9)))
    edges = np.linspace(start, end, n + 1)
    return [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]


def pool(items: Sequence[TimedScores], start: float, end: float) -> tuple[np.ndarray | None, str]:
    """Overlap- and weight-averaged probabilities of the items that overlap [start, end]."""
    acc = np.zeros(len(CANONICAL))
    total = 0.0
    texts = []
    for it in items:
        overlap = min(it.end, end) - max(it.start, start)
        if it.end == it.start and start <= it.start <= end:  # an instant (a still image)
            overlap = 1.0
        if overlap <= 0:
            continue
        w = overlap * max(it.weight, 1e-6)
        acc += w * np.array([float(it.scores.get(lab, 0.0)) for lab in CANONICAL])
        total += w
        if it.text:
            texts.append(it.text)
    if total <= 0:
        return None, ""
    return acc / total, " ".join(texts)


def build_segments(usable: Mapping[str, ModalityOutput], duration: float | None,
                   weights: Mapping[str, float], config: FusionConfig) -> list[Segment]:
    segments = []
    for start, end in segment_bounds(usable, duration):
        per_mod: dict[str, dict[str, float]] = {}
        acc = np.zeros(len(CANONICAL))
        wsum = 0.0
        text = ""
        for m, o in usable.items():
            p, t = pool(o.timeline, start, end)
            if p is None:
                continue
            per_mod[m] = {lab: float(v) for lab, v in zip(CANONICAL, p)}
            acc += weights[m] * calibrate(per_mod[m], config.temperatures.get(m, 1.0))
            wsum += weights[m]
            if m == "text":
                text = t
        if wsum <= 0:
            continue
        fused = acc / wsum
        scores = {lab: float(v) for lab, v in zip(CANONICAL, fused / fused.sum())}
        segments.append(Segment(start=start, end=end, label=max(scores, key=scores.get), scores=scores,
                                modalities=per_mod, text=text))
    return segments
