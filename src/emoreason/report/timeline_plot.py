"""The timeline of emotion scores as a PNG picture (matplotlib, Agg backend, no display needed).

One row per track (all cues fused, then face, voice, words, then each person of a multi-person result,
named P1, P2 ...): for each segment a stacked bar of the
label probabilities, so the dominant colour shows the label and its height share the confidence.
matplotlib is imported inside :func:`plot_timeline`: it is slow to import and only the picture needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_path
from emoreason.report.palette import MODALITY_NAMES, label_colour
from emoreason.report.timeline_data import build_timeline, format_time, nice_ticks, people_timeline
from emoreason.result import Result


def plot_timeline(result: Result, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Draw ``result``'s timeline of scores per modality into the PNG file ``path`` (written atomically)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ConfigError(f"the timeline picture is written as PNG; give a .png path, not {path.name!r}")
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # a Figure not tied to pyplot: no global state, thread-safe
    from matplotlib.patches import Patch

    timeline = build_timeline(result)
    people = people_timeline(result)
    if people is not None:  # one more row per person, below the clip's rows
        timeline.tracks += people.tracks
        timeline.labels += [lab for lab in people.labels if lab not in timeline.labels]
        timeline.end = max(timeline.end, people.end)
    n = len(timeline.tracks)
    height = 1.3 + 1.05 * n
    fig = Figure(figsize=(10, height), dpi=dpi)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for ax, track in zip(axes, timeline.tracks):
        for blk in track.blocks:
            bottom = 0.0
            width = blk.end - blk.start
            for lab in timeline.labels:
                p = float(blk.scores.get(lab, 0.0))
                if p <= 0:
                    continue
                ax.bar(blk.start, p, width=width, bottom=bottom, align="edge",
                       color=label_colour(lab, result.label_set), edgecolor="white", linewidth=0.6)
                bottom += p
            top = blk.top
            if top is not None and width / max(timeline.end - timeline.start, 1e-9) > 0.07:
                ax.text(blk.start + width / 2, 1.04, top, ha="center", va="bottom", fontsize=8, color="#333")
        ax.set_ylim(0, 1.28)
        ax.set_yticks([0, 0.5, 1.0])
        ax.set_yticklabels(["0", ".5", "1"], fontsize=7, color="#666")
        ax.set_ylabel(MODALITY_NAMES.get(track.name, track.name), rotation=0, ha="right", va="center",
                      fontsize=10, fontweight="bold" if track.name == "fused" else "normal")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.grid(axis="y", color="#eee", linewidth=0.6)
        ax.set_axisbelow(True)
    last = axes[-1]
    last.set_xlim(timeline.start, timeline.end)
    if timeline.timed:
        ticks = nice_ticks(timeline.start, timeline.end)
        last.set_xticks(ticks)
        last.set_xticklabels([format_time(t) for t in ticks], fontsize=8)
        last.set_xlabel("time", fontsize=9)
    else:
        last.set_xticks([])
        last.set_xlabel("whole input (no time axis)", fontsize=9)
    handles = [Patch(color=label_colour(lab, result.label_set), label=lab)
               for lab in timeline.labels]
    fig.legend(handles=handles, loc="upper left", ncol=min(len(handles), 8), frameon=False, fontsize=9,
               bbox_to_anchor=(0.1, 1 - 0.32 / height))
    title = f"{Path(result.input).name or 'input'}: {result.label}"
    fig.suptitle(title, x=0.01, y=1 - 0.06 / height, ha="left", va="top", fontsize=11, fontweight="bold")
    fig.subplots_adjust(left=0.11, right=0.98, top=1 - 0.8 / height, bottom=0.5 / height, hspace=0.35)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
