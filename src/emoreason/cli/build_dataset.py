"""``emoreason build-dataset VIDEOS_DIR_OR_MANIFEST -o OUT/``: MERR-style instruction data from videos.

Parses the arguments into :class:`~emoreason.dataset_builder.builder.BuildOptions` and calls
:func:`emoreason.dataset_builder.runner.build_dataset` (local worker processes) or
:func:`emoreason.dataset_builder.distributed.build_dataset_ray` (``--backend ray``). Those two modules are
imported inside :func:`run`: the runner's exports load the multimodal-LLM package (transformers, torch),
the Ray backend loads ray, and every ``emoreason`` command imports this module to list its options.
"""

from __future__ import annotations

import argparse
import os
import sys

from emoreason.dataset_builder.builder import DEFAULT_PERCEIVER, BuildOptions
from emoreason.labels import LABEL_MAPS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build-dataset", help="build MERR-style emotion instruction data from a folder of videos",
        description="Per clip: perception, MERR peak frame, AU phrases, audio description, coarse caption, "
                    "pseudo-labels, reasoning. Writes JSONL, MERR JSON and ShareGPT/LLaVA JSON. Resumable: "
                    "rerun the same command after an interruption.")
    p.add_argument("source", help="a directory of videos, or a CSV manifest (path[,label][,subtitle][,id])")
    p.add_argument("-o", "--output", required=True,
                   help="output directory: new (created), empty, or an earlier build's (resumed)")
    p.add_argument("-j", "--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="worker processes (default: min(2, CPUs)); 1 runs in this process")
    p.add_argument("--seed", type=int, default=0, help="seed for every random choice (default 0)")
    p.add_argument("--fps", type=float, default=5.0, help="video frames analysed per second (default 5)")
    p.add_argument("--modalities", default="face,voice,text", help="subset of face,voice,text (default all)")
    p.add_argument("--labels", default="canonical", choices=sorted(LABEL_MAPS),
                   help="label set of the manifest's 'label' column (default canonical)")
    p.add_argument("--reasoning", choices=["offline", "llm"], default="offline",
                   help="fine-grained reasoning by our explanation (offline) or an LLM (default offline)")
    p.add_argument("--llm-url",
                   help="OpenAI-compatible endpoint for --reasoning llm, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--llm-model", help="model name to ask that endpoint for")
    p.add_argument("--vlm-url", help="OpenAI-compatible vision endpoint for scene descriptions (optional)")
    p.add_argument("--vlm-model", help="vision-language model name for --vlm-url")
    p.add_argument("--features", metavar="RECIPE",
                   help="also cache the multimodal LLM's encoder features, with this train-llm recipe's "
                        "encoders, into OUT/features (needs the llm extra)")
    p.add_argument("--keep-contradictions", action="store_true",
                   help="keep clips whose reasoning contradicts their label in the MERR/ShareGPT exports")
    p.add_argument("--people", action="store_true",
                   help="also one record per person of each clip (faces tracked, voices diarised); the MERR "
                        "and ShareGPT exports then hold one entry per person")
    p.add_argument("--perceiver", default=None,
                   help="module:function replacing emoreason's perception (see docs/dataset_builder.md)")
    p.add_argument("--backend", choices=["processes", "ray"], default="processes",
                   help="run clips on local worker processes (default) or on a Ray cluster")
    p.add_argument("--ray-address", help="Ray cluster address for --backend ray (default: start a local one)")
    p.add_argument("--limit", type=int, help="only the first N clips of the manifest (a trial run)")
    p.add_argument("--max-tasks-per-child", type=int, default=200,
                   help="replace a worker process after this many clips, bounding memory (default 200)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emoreason.dataset_builder.runner import build_dataset, check_build_output

    options = BuildOptions(seed=args.seed, fps=args.fps, modalities=args.modalities, label_set=args.labels,
                           reasoning=args.reasoning, llm_url=args.llm_url, llm_model=args.llm_model,
                           vlm_url=args.vlm_url, vlm_model=args.vlm_model, features=args.features,
                           perceiver=args.perceiver or DEFAULT_PERCEIVER, people=args.people)
    progress = not args.no_progress and sys.stderr.isatty()
    check_build_output(args.output)  # before Ray starts or any clip is read
    if args.backend == "ray":
        from emoreason.dataset_builder.distributed import build_dataset_ray

        summary = build_dataset_ray(args.source, args.output, options, address=args.ray_address,
                                    keep_contradictions=args.keep_contradictions, limit=args.limit,
                                    progress=progress)
    else:
        summary = build_dataset(args.source, args.output, options, workers=args.workers, progress=progress,
                                keep_contradictions=args.keep_contradictions, limit=args.limit,
                                max_tasks_per_child=args.max_tasks_per_child)
    print(summary.describe(), file=sys.stderr)
    return 0 if summary.done > 0 else 1
