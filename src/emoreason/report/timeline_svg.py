"""The timeline of emotion scores as inline SVG for the HTML report (no script, no external file).

Same picture as the PNG: one row per track, each segment a stacked bar of label probabilities. Every
bar carries a ``<title>`` so hovering shows the segment's time, label and scores.
"""

from __future__ import annotations

from html import escape

from emoreason.report.palette import MODALITY_NAMES, label_colour, text_on
from emoreason.report.timeline_data import Timeline, format_time, nice_ticks

_WIDTH = 960
_LEFT = 92
_RIGHT = 28
_ROW = 58
_GAP = 14
_TOP = 8
_AXIS = 30


def timeline_svg(timeline: Timeline, label_set: str = "canonical") -> str:
    """An ``<svg>`` element drawing ``timeline`` (scales to its container's width)."""
    plot_w = _WIDTH - _LEFT - _RIGHT
    span = max(timeline.end - timeline.start, 1e-9)
    height = _TOP + len(timeline.tracks) * (_ROW + _GAP) + _AXIS

    def x_of(t: float) -> float:
        return _LEFT + (t - timeline.start) / span * plot_w

    parts = [f'<svg class="timeline" viewBox="0 0 {_WIDTH} {height}" role="img" '
             f'aria-label="emotion scores over time, per modality" xmlns="http://www.w3.org/2000/svg">']
    for row, track in enumerate(timeline.tracks):
        y0 = _TOP + row * (_ROW + _GAP)
        name = MODALITY_NAMES.get(track.name, track.name)
        weight = "700" if track.name == "fused" else "500"
        parts.append(f'<text x="{_LEFT - 10}" y="{y0 + _ROW / 2 + 5:.1f}" text-anchor="end" '
                     f'class="track-name" font-weight="{weight}">{escape(name)}</text>')
        parts.append(f'<rect x="{_LEFT}" y="{y0}" width="{plot_w}" height="{_ROW}" class="track-bg"/>')
        for blk in track.blocks:
            x = x_of(blk.start)
            w = max(x_of(blk.end) - x, 1.0)
            when = (f"{format_time(blk.start)} – {format_time(blk.end)}" if timeline.timed
                    else "whole input")
            ranked = sorted(blk.scores.items(), key=lambda kv: -kv[1])
            tip = f"{name}, {when}: " + ", ".join(f"{lab} {p:.2f}" for lab, p in ranked[:4])
            parts.append(f'<g class="seg"><title>{escape(tip)}</title>')
            y = y0 + _ROW
            top = blk.top
            top_band: tuple[float, float] | None = None
            for lab in timeline.labels:
                p = float(blk.scores.get(lab, 0.0))
                if p <= 0:
                    continue
                h = p * _ROW
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                             f'fill="{label_colour(lab, label_set)}"/>')
                if lab == top:
                    top_band = (y, h)
            if top is not None and top_band is not None and w > 54 and top_band[1] >= 15:
                colour = label_colour(top, label_set)  # the label's name, written inside its own band
                parts.append(f'<text x="{x + w / 2:.1f}" y="{top_band[0] + top_band[1] / 2 + 4:.1f}" '
                             f'text-anchor="middle" class="seg-label" fill="{text_on(colour)}">'
                             f'{escape(top)}</text>')
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y0 + _ROW}" class="seg-edge"/></g>')
    axis_y = _TOP + len(timeline.tracks) * (_ROW + _GAP) - _GAP + 4
    if timeline.timed:
        for t in nice_ticks(timeline.start, timeline.end, max_ticks=10):
            x = x_of(t)
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y}" y2="{axis_y + 5}" class="tick"/>'
                         f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle" class="tick-label">'
                         f'{escape(format_time(t))}</text>')
    else:
        parts.append(f'<text x="{_LEFT + plot_w / 2:.1f}" y="{axis_y + 18}" text-anchor="middle" '
                     f'class="tick-label">whole input (no time axis)</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend_html(labels: list[str], label_set: str = "canonical") -> str:
    """A row of colour chips naming each label."""
    chips = "".join(f'<span class="chip"><i style="background:{label_colour(lab, label_set)}"></i>'
                    f"{escape(lab)}</span>" for lab in labels)
    return f'<div class="legend">{chips}</div>'
