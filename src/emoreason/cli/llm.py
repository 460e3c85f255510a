"""``emoreason cache-features`` / ``train-llm`` / ``merge-lora``: the multimodal LLM's command-line verbs.

Multi-GPU: ``accelerate launch --config_file configs/accelerate/ddp.yaml -m emoreason.cli.main train-llm R.yaml``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emoreason.errors import ConfigError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".wav", ".flac", ".mp3", ".m4a")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache-features", help="precompute the multimodal LLM's frozen encoder features",
                       description="Encode every clip of a recipe's data with the frozen encoders into "
                                   "safetensors shards, so training reads features instead of videos.")
    p.add_argument("recipe", type=Path, help="a train-llm recipe (YAML): its data, encoders and feature_cache")
    p.add_argument("--videos", type=Path, help="folder of clips named <clip id>.<ext> (for records without a path)")
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
                       description="Load a train-llm output folder, merge the LoRA weights, write a full model.")
    m.add_argument("model", type=Path, help="a train-llm output folder (config.json, adapter/)")
    m.add_argument("output", type=Path, help="folder for the merged model (safetensors)")
    m.set_defaults(func=run_merge_lora)


def _clip_paths(recipe, videos: Path | None) -> list[tuple[str, str]]:
    from emoreason.emollm.dataset import read_examples

    examples, _ = read_examples(recipe.data, recipe.stage, recipe.labels_file, recipe.subtitles_file)
    clips: dict[str, str] = {}
    missing = []
    for ex in examples:
        if ex.clip_id in clips:
            continue
        path = ex.video
        if path is None and videos is not None:
            path = next((str(videos / f"{ex.clip_id}{s}") for s in VIDEO_SUFFIXES
                         if (videos / f"{ex.clip_id}{s}").is_file()), None)
        if path is None:
            missing.append(ex.clip_id)
            continue
        clips[ex.clip_id] = path
    if missing:
        print(f"emoreason: {len(missing)} clips have no media file (first: {missing[0]}); pass --videos DIR",
              file=sys.stderr)
    return list(clips.items())


class _EncoderBundle:
    """What the cache builder needs: a config and the encoders (loaded from their paths)."""

    def __init__(self, config):
        from emoreason.emollm.encoders import EmoLLMEncoders, load_encoder

        towers = {}
        for name, spec in config.encoders.items():
            if not spec.get("path"):
                raise ConfigError(f"encoder {name!r} has no path: caching needs its pretrained weights "
                                  "(random weights would give meaningless features)")
            towers[name], _ = load_encoder(spec["path"])
            spec["config"] = towers[name].config.to_dict()
        self.config = config
        self.encoders = EmoLLMEncoders(config, towers=towers)

    def eval(self):
        self.encoders.eval()
        return self


def run_cache_features(args: argparse.Namespace) -> int:
    from emoreason.emollm import EmoLLMConfig
    from emoreason.emollm.features import build_feature_cache
    from emoreason.emollm.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    if args.shard_size < 1:
        raise ConfigError("--shard-size must be at least 1")
    bundle = _EncoderBundle(EmoLLMConfig(**recipe.model_config))
    clips = _clip_paths(recipe, args.videos)
    out = args.out or Path(recipe.feature_cache)
    counts = build_feature_cache(bundle, clips, out, shard_size=args.shard_size)
    for clip, why in list(counts["failed"].items())[:5]:
        print(f"emoreason: skipped {clip}: {why}", file=sys.stderr)
    print(json.dumps({"encoded": counts["encoded"], "already": counts["already"],
                      "failed": len(counts["failed"]), "cache": str(out)}))
    return 0 if counts["encoded"] + counts["already"] > 0 else 1


def run_train(args: argparse.Namespace) -> int:
    from emoreason.emollm.recipe import load_recipe
    from emoreason.emollm.train import train

    overrides = {"output_dir": args.output_dir}
    recipe = load_recipe(args.recipe, overrides)
    if args.max_steps is not None:
        if args.max_steps < 1:
            raise ConfigError("--max-steps must be at least 1")
        recipe.optim.max_steps = args.max_steps
    summary = train(recipe, resume=not args.no_resume)
    print(json.dumps(summary))
    return 0


def run_merge_lora(args: argparse.Namespace) -> int:
    from peft import PeftModel

    from emoreason.emollm.checkpoint import load_trained
    from emoreason.emollm.lora import merge_lora

    model, processor = load_trained(args.model, is_trainable=False)
    if not isinstance(model, PeftModel):
        raise ConfigError(f"{args.model} has no LoRA adapter to merge")
    merged = merge_lora(model)
    merged.save_pretrained(str(args.output), safe_serialization=True)
    processor.tokenizer.save_pretrained(str(args.output))
    print(f"wrote the merged model to {args.output}", file=sys.stderr)
    return 0
