"""The multimodal LLM's command-line verbs: ``cache-features``, ``train-llm`` and ``merge-lora``.

Each verb parses its arguments and calls one library function of :mod:`emoreason.emollm`. Those
modules import torch, so they are imported inside the ``run_*`` functions: the other verbs start
without it.

Multi-GPU::

    accelerate launch --config_file configs/accelerate/ddp.yaml -m emoreason.cli.main train-llm R.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache-features", help="precompute the multimodal LLM's frozen encoder features",
                       description="Encode every clip of a recipe's data with the frozen encoders into "
                                   "safetensors shards, so training reads features instead of videos.")
    p.add_argument("recipe", type=Path,
                   help="a train-llm recipe (YAML): its data, encoders and feature_cache")
    p.add_argument("--videos", type=Path,
                   help="folder of clips named <clip id>.<ext> (for records without a path)")
    p.add_argument("--out", type=Path, help="cache folder (default: the recipe's feature_cache)")
    p.add_argument("--shard-size", type=int, default=64, help="clips per safetensors shard (default 64)")
    p.set_defaults(func=run_cache_features)

    t = sub.add_parser("train-llm", help="instruction-tune the multimodal LLM from a YAML recipe",
                       description="Train LoRA + projectors on cached features (one stage of a recipe).")
    t.add_argument("recipe", type=Path, help="YAML recipe (configs/emollm/*.yaml)")
    t.add_argument("--output-dir", help="override the recipe's output_dir")
    t.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    t.add_argument("--no-resume", action="store_true", help="ignore checkpoints in the output folder")
    t.set_defaults(func=run_train)

    m = sub.add_parser("merge-lora", help="fold a trained LoRA adapter into the model and save it whole",
                       description="Load a train-llm output folder, merge the LoRA weights, "
                                   "write a full model.")
    m.add_argument("model", type=Path, help="a train-llm output folder (config.json, adapter/)")
    m.add_argument("output", type=Path, help="folder for the merged model (safetensors)")
    m.set_defaults(func=run_merge_lora)


def run_cache_features(args: argparse.Namespace) -> int:
    from emoreason.emollm.features import cache_features

    summary = cache_features(args.recipe, videos=args.videos, out=args.out, shard_size=args.shard_size)
    print(json.dumps(summary.counts()))
    return 0 if summary.ok else 1


def run_train(args: argparse.Namespace) -> int:
    from emoreason.emollm.train import train_from_file

    summary = train_from_file(args.recipe, output_dir=args.output_dir, max_steps=args.max_steps,
                              resume=not args.no_resume)
    print(json.dumps(summary))
    return 0


def run_merge_lora(args: argparse.Namespace) -> int:
    from emoreason.emollm.checkpoint import merge_trained

    merge_trained(args.model, args.output)
    print(f"wrote the merged model to {args.output}", file=sys.stderr)
    return 0
