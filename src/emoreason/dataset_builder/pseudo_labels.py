"""MERR's peak frame and pseudo-label for a clip, next to our models' label, with an agreement flag.

The rules themselves (AU phrases, MERR's label rules, MERR's peak-frame rule) live in
:mod:`emoreason.perception.face.phrases`, shared with the face stage; this module applies them to a
clip's AU table and records what they found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emoreason.perception.face.action_units import ACTIVE_THRESHOLD
from emoreason.perception.face.phrases import (
    AU_PHRASES,
    au_table_frame,
    describe_aus,
    merr_frequent_aus,
    merr_peak_index,
    merr_rule_label,
)


@dataclass
class PeakFrame:
    """The clip's emotional peak by MERR's rule, read from the AU table (one row per sampled frame)."""

    row: int  # position in the AU table
    time: float  # seconds
    frequent_aus: list[str]  # MERR's AU_list: the AUs active in most frames (the ones summed)
    aus: dict[str, float]  # every AU's intensity at the peak
    active: list[str]  # AUs at or above the active threshold at the peak, strongest first
    expression: str  # the active AUs in words ("Eyes widened, mouth wide open")
    phrases: list[str] = field(default_factory=list)  # one phrase per active AU (MERR's visual_prior_list)


@dataclass
class PseudoLabel:
    """MERR's AU-rule label and our models' label for one clip."""

    merr_rule: str | None  # canonical label, or None when no rule (or an ambiguous tie) fires
    model: str | None  # the fused label of emoreason's default models
    model_scores: dict[str, float]
    agree: bool | None  # None when the MERR rule gives no label

    def to_dict(self) -> dict[str, Any]:
        return {"merr_rule": self.merr_rule, "model": self.model,
                "model_scores": {k: round(float(v), 4) for k, v in self.model_scores.items()},
                "agree": self.agree}


def find_peak(au_table: Any, threshold: float = ACTIVE_THRESHOLD) -> PeakFrame | None:
    """MERR's peak frame of a pandas AU table (index: time in s; columns: AU intensities); None if empty."""
    if au_table is None or len(au_table) == 0 or au_table.shape[1] == 0:
        return None
    table = au_table_frame(au_table)
    row = merr_peak_index(table, threshold=threshold)
    values = {c: float(v) for c, v in table.iloc[row].items()}
    active = sorted((a for a, v in values.items() if v >= threshold), key=lambda a: (-values[a], a))
    return PeakFrame(
        row=row,
        time=float(table.index[row]),
        frequent_aus=merr_frequent_aus(table, threshold=threshold),
        aus=values,
        active=active,
        expression=describe_aus({a: values[a] for a in active}),
        phrases=[AU_PHRASES.get(a, a) for a in active],
    )


def pseudo_label(peak: PeakFrame | None, model_label: str | None,
                 model_scores: Mapping[str, float] | None = None) -> PseudoLabel:
    """MERR's rule on the peak's active AUs, beside our models' label; ``agree`` compares the two."""
    rule = merr_rule_label(peak.active) if peak is not None else None
    agree = None if rule is None or model_label is None else rule == model_label
    return PseudoLabel(merr_rule=rule, model=model_label, model_scores=dict(model_scores or {}), agree=agree)
