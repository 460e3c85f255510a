"""``emoreason demo``: make a sample clip and analyse it — the first thing to run on a new machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emoreason.api import analyze
from emoreason.io.demo_clip import DEMO_SENTENCE, make_demo_clip
from emoreason.io.results import write_results
from emoreason.report.html import write_html_report
from emoreason.report.timeline_plot import plot_timeline


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="make a sample clip (photo + synthetic speech) and analyse it")
    p.add_argument("--out", type=Path, default=Path("emoreason-demo"), help="folder for the clip and results")
    p.add_argument("--text", help="the sentence the synthetic voice says")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    clip = make_demo_clip(args.out / "demo.mp4", text=args.text or DEMO_SENTENCE)
    print(f"made {clip} (scikit-image's astronaut photo + espeak-ng speech)", file=sys.stderr)
    result = analyze(clip, progress=sys.stderr.isatty())
    print(result.summary())
    write_results([result], args.out / "result.json", "json")
    written = [args.out / "result.json",
               write_html_report(result, args.out / "report.html", media_path=clip),
               plot_timeline(result, args.out / "timeline.png")]
    print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    return 0
