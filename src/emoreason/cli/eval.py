"""``emoreason eval``: score the pipeline, MLLM checkpoints and prediction files on a corpus, one table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emoreason.eval.datasets import DATASET_NAMES
from emoreason.eval.evaluate import evaluate
from emoreason.eval.reasoning_metrics import LlmJudge
from emoreason.eval.report import summary_table
from emoreason.perception.face.analyzer import FACE_MODELS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate on a corpus (RAVDESS, MELD, ... or a CSV manifest) and write a report",
        description="Run systems over a corpus split and write report.json, report.md and PNGs. "
        "Resumable: predictions are journalled in OUT/predictions/*.jsonl and a rerun skips them.",
    )
    p.add_argument("--dataset", required=True, help=f"corpus adapter: {', '.join(DATASET_NAMES)}")
    p.add_argument("--root", required=True, type=Path, help="the corpus folder (csv: the manifest file)")
    p.add_argument(
        "--split", help="split/fold/class set (see each adapter; e.g. dev, test1, 4class-session5)"
    )
    p.add_argument(
        "--model",
        action="append",
        dest="models",
        help="'default' (the pipeline), 'compact' (the shipped multimodal LLM) or a trained multimodal-LLM "
        "folder; repeat to compare on the same items, e.g. --model default --model compact (default: "
        "default). A multimodal LLM reads every input an item has and answers labels only (no reasoning); "
        "the report adds its parse rate",
    )
    p.add_argument(
        "--modalities",
        default="all",
        help="comma-separated modality sets to run as ablations, e.g. face,voice,text,all or "
        "face+voice (default all)",
    )
    p.add_argument(
        "--predictions",
        action="append",
        default=[],
        type=Path,
        help="a CSV/JSONL file of id,label predictions to score as another system; repeatable",
    )
    p.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="LABEL",
        help="also score a system that always answers LABEL (e.g. the training set's majority class)",
    )
    p.add_argument(
        "--no-pipeline",
        action="store_true",
        help="run no pipeline: score only --predictions files and --baseline labels",
    )
    p.add_argument(
        "--label-set",
        help="csv manifest and image_folder only: read labels through this named map (e.g. meld)",
    )
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="report folder: new, empty, or an earlier eval's folder (resumed)")
    p.add_argument("--limit", type=int, help="score only the first N items")
    p.add_argument("--sample", type=int, help="score a random N items (seeded by --seed), in corpus order")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed for the bootstrap and --sample (default 0)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the CIs (0: none)")
    p.add_argument(
        "--face-model",
        action="append",
        dest="face_models",
        choices=FACE_MODELS,
        help="the face expression model of the default pipeline; repeat to compare, e.g. "
        "--face-model default --face-model facex --face-model fer (default: default)",
    )
    p.add_argument(
        "--voice-by-speaker",
        action="store_true",
        help="also run each voice set with every speaker's clips read together (speaker normalisation over "
        "the corpus' speaker ids), named e.g. default[voice; by speaker]",
    )
    p.add_argument(
        "--mllm-reasoning",
        action="store_true",
        help="multimodal LLMs (--model compact or a folder) also generate their [reason] answer, scored as "
        "the explanation (slow: up to 200 tokens per item)",
    )
    p.add_argument("--fps", type=float, default=5.0, help="video frames analysed per second (default 5)")
    p.add_argument(
        "--reasoning",
        choices=["auto", "labels", "off"],
        default="auto",
        help="explanation scores when references exist (auto: label + clue overlap)",
    )
    p.add_argument("--judge-url", help="OpenAI-compatible endpoint for the EMER-style LLM judge (optional)")
    p.add_argument("--judge-model", default="gpt-3.5-turbo", help="judge model name (recorded in the report)")
    p.add_argument(
        "--judge-key-env", help="environment variable holding the judge's API key, if it needs one"
    )
    p.add_argument("--fresh", action="store_true", help="ignore earlier predictions in OUT (no resume)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNGs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    models = [] if args.no_pipeline else (args.models or ["default"])
    judge = LlmJudge(args.judge_url, args.judge_model, args.judge_key_env) if args.judge_url else None
    report = evaluate(
        args.dataset,
        args.root,
        args.output,
        split=args.split,
        models=models,
        modalities=[m for m in args.modalities.split(",") if m.strip()],
        predictions=args.predictions,
        baselines=args.baseline,
        label_set=args.label_set,
        limit=args.limit,
        sample=args.sample,
        workers=args.workers,
        seed=args.seed,
        resamples=args.bootstrap,
        fps=args.fps,
        face_models=args.face_models or ["default"],
        voice_by_speaker=args.voice_by_speaker,
        mllm_reasoning=args.mllm_reasoning,
        progress=not args.no_progress and sys.stderr.isatty(),
        resume=not args.fresh,
        reasoning=args.reasoning,
        judge=judge,
        plots=not args.no_plots,
    )
    print(summary_table(report))
    print(f"report: {args.output / 'report.md'}", file=sys.stderr)
    return 0

