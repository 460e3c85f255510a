"""The timeline a Result describes, as tracks of scored time blocks: one track for the fused scores and
one per modality, and (:func:`people_timeline`) one per person of a multi-person result. Both the inline
SVG of the HTML report and the PNG picture draw from this."""

from __future__ import annotations

from dataclasses import dataclass, field

from emoreason.report.palette import label_order
from emoreason.result import Result


@dataclass
class Block:
    start: float
    end: float
    scores: dict[str, float]
    text: str = ""

    @property
    def top(self) -> str | None:
        return max(self.scores, key=self.scores.get) if self.scores else None


@dataclass
class Track:
    name: str  # "fused" or a modality name
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Timeline:
    tracks: list[Track]
    start: float
    end: float
    labels: list[str]  # every label any block scores, in display order
    timed: bool  # False when the input has no time axis (text, a single image)


_MODALITY_ORDER = ("face", "voice", "text")


def build_timeline(result: Result) -> Timeline:
    """Tracks for ``result``: its segments if it has any, otherwise one block over the whole input."""
    modality_names: list[str] = []
    fused = Track("fused")
    per_modality: dict[str, Track] = {}
    if result.segments:
        for seg in sorted(result.segments, key=lambda s: s.start):
            fused.blocks.append(Block(seg.start, seg.end, dict(seg.scores), seg.text))
            for mod, scores in seg.modalities.items():
                if scores:
                    per_modality.setdefault(mod, Track(mod)).blocks.append(
                        Block(seg.start, seg.end, dict(scores)))
        start = min(b.start for b in fused.blocks)
        end = max([b.end for b in fused.blocks] + [result.duration or 0.0])
        timed = end > start
        if not timed:  # segments without length: spread them evenly so they can be drawn
            for i, blk in enumerate(fused.blocks):
                blk.start, blk.end = float(i), float(i + 1)
            start, end = 0.0, float(len(fused.blocks))
    else:
        end = float(result.duration) if result.duration else 0.0
        timed = end > 0
        end = end if timed else 1.0
        start = 0.0
        fused.blocks.append(Block(start, end, dict(result.scores), result.transcript))
        for mod, summary in result.modalities.items():
            if summary.used and summary.scores:
                per_modality[mod] = Track(mod, [Block(start, end, dict(summary.scores))])
    for mod in _MODALITY_ORDER:
        if mod in per_modality:
            modality_names.append(mod)
    modality_names += sorted(m for m in per_modality if m not in _MODALITY_ORDER)
    tracks = [fused] + [per_modality[m] for m in modality_names]
    labels = label_order({lab for t in tracks for b in t.blocks for lab, p in b.scores.items() if p > 0},
                         result.label_set)
    return Timeline(tracks=tracks, start=start, end=end, labels=labels, timed=timed)


def people_timeline(result: Result) -> Timeline | None:
    """One track per person (named by ``person_id``): their own fused segments, over the clip's time
    span; None when the result has no people or none of them has segments."""
    tracks = [Track(p.person_id, [Block(seg.start, seg.end, dict(seg.scores), seg.text)
                                  for seg in sorted(p.segments, key=lambda s: s.start) if seg.scores])
              for p in result.people]
    tracks = [t for t in tracks if t.blocks]
    if not tracks:
        return None
    start = min(b.start for t in tracks for b in t.blocks)
    end = max([b.end for t in tracks for b in t.blocks] + [result.duration or 0.0])
    labels = label_order({lab for t in tracks for b in t.blocks for lab, p in b.scores.items() if p > 0},
                         result.label_set)
    return Timeline(tracks=tracks, start=min(start, 0.0), end=end, labels=labels, timed=end > start)


def nice_ticks(start: float, end: float, max_ticks: int = 8) -> list[float]:
    """Round tick positions (1, 2, 5 x 10^k steps) covering [start, end]."""
    span = max(end - start, 1e-9)
    raw = span / max_ticks
    step = 1.0
    for base in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600):
        step = base
        if base >= raw:
            break
    first = int(start / step + 0.999999) * step
    ticks = []
    t = first
    while t <= end + 1e-9:
        ticks.append(round(t, 6))
        t += step
    return ticks


def format_time(seconds: float | None) -> str:
    """``73.25`` → ``"1:13.2"``; under a minute ``"4.5 s"``."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(seconds, 60)
    return f"{int(minutes)}:{sec:04.1f}"
