"""The multimodal LLM's feature cache: the frozen encoders' stream features, in safetensors shards.

Training reads features from here instead of decoding videos. :func:`cache_features` is the
``cache-features`` step (the CLI verb and ``build-dataset --features`` both call it): it reads a
recipe's clips, loads the recipe's pretrained encoders and fills the cache, resuming where it stopped.

Layout: ``index.json`` (clip id -> shard and streams, plus each stream's feature shape) and
``features-NNNNN.safetensors`` shards with tensors named ``<clip id>/<stream>``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from safetensors import safe_open

from emoreason.emollm.configuration_emollm import COMPUTED_KINDS, EmoLLMConfig
from emoreason.emollm.dataset import read_examples
from emoreason.emollm.encoders import EmoLLMEncoders, load_encoder
from emoreason.emollm.media import load_clip_media
from emoreason.emollm.recipe import TrainRecipe, load_recipe
from emoreason.errors import ConfigError, EmoreasonError, ModelError
from emoreason.io.atomic import atomic_write_bytes, atomic_write_text

INDEX = "index.json"
#: Media file endings looked for in ``--videos DIR`` for a record without a path.
MEDIA_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".wav", ".flac", ".mp3", ".m4a",
                  ".png", ".jpg", ".jpeg")


class FeatureCache:
    """Read cached stream features by clip id (shards opened lazily, tensors read on demand)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        index = self.root / INDEX
        if not index.is_file():
            raise ConfigError(f"{self.root} is not a feature cache (no {INDEX}); "
                              "build one with cache-features")
        meta = json.loads(index.read_text(encoding="utf-8"))
        self.clips: dict[str, dict[str, Any]] = meta["clips"]
        self.shapes: dict[str, list[int]] = meta["shapes"]

    def __contains__(self, clip_id: str) -> bool:
        return clip_id in self.clips

    def __len__(self) -> int:
        return len(self.clips)

    def check(self, config: Any) -> None:
        """Raise ``ModelError`` if the cached shapes do not match the model's streams."""
        for s in config.streams:
            want = [int(s.get("group", 1)) * int(s.get("num_tokens", 1)),
                    int(config.encoders[s["encoder"]]["feature_dim"])]
            got = self.shapes.get(s["name"])
            if got is not None and list(got) != want:
                raise ModelError(f"feature cache {self.root}: stream {s['name']!r} has shape {got}, "
                                 f"model wants {want}")

    def get(self, clip_id: str) -> dict[str, torch.Tensor]:
        entry = self.clips[clip_id]
        with safe_open(str(self.root / entry["shard"]), framework="pt") as f:
            return {s: f.get_tensor(f"{clip_id}/{s}") for s in entry["streams"]}


def runnable_encoders(model: Any) -> set[str]:
    """The encoders ``model`` can compute features with: its loaded towers and the computed kinds
    (``face_measures``)."""
    return set(model.encoders.towers) | set(model.config.computed_encoders())


def build_feature_cache(model: Any, clips: Iterable[tuple[str, str | Path]], out_dir: str | Path,
                        shard_size: int = 64, dtype: torch.dtype = torch.float16,
                        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Encode each (clip id, media path) with ``model``'s frozen encoders into ``out_dir``; resumable.

    A media path may be a video, an audio file or an image (one frame). Clips already in the index are
    skipped; a clip that cannot be decoded is skipped and counted.
    Returns counts: ``encoded``, ``already``, ``failed`` (clip id -> reason).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index_path = out / INDEX
    meta = json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else \
        {"clips": {}, "shapes": {}}
    pending: dict[str, torch.Tensor] = {}
    pending_clips: dict[str, list[str]] = {}
    shard_no = len({e["shard"] for e in meta["clips"].values()})
    counts: dict[str, Any] = {"encoded": 0, "already": 0, "failed": {}}

    def flush() -> None:
        nonlocal shard_no, pending, pending_clips
        if not pending_clips:
            return
        name = f"features-{shard_no:05d}.safetensors"
        atomic_write_bytes(out / name, safetensors.torch.save(pending))
        for cid, streams in pending_clips.items():
            meta["clips"][cid] = {"shard": name, "streams": streams}
        atomic_write_text(index_path, json.dumps(meta, indent=1))
        shard_no += 1
        pending, pending_clips = {}, {}

    model.eval()
    for clip_id, path in clips:
        if clip_id in meta["clips"] or clip_id in pending_clips:
            counts["already"] += 1
            continue
        try:
            cm = load_clip_media(path, model.config, runnable_encoders(model))
            with torch.no_grad():
                feats = model.encoders(cm.media, audio_lengths=cm.audio_lengths) if cm.media else {}
            feats.update(cm.features)
        except EmoreasonError as exc:
            counts["failed"][clip_id] = str(exc)
            continue
        for stream, x in feats.items():
            pending[f"{clip_id}/{stream}"] = x[0].to(dtype).contiguous()
            meta["shapes"][stream] = list(x.shape[1:])
        pending_clips[clip_id] = sorted(feats)
        counts["encoded"] += 1
        if progress:
            progress(clip_id)
        if len(pending_clips) >= shard_size:
            flush()
    flush()
    if not index_path.exists():
        atomic_write_text(index_path, json.dumps(meta, indent=1))
    return counts


# ---- the cache-features step ---------------------------------------------------------------------
@dataclass
class CacheSummary:
    """What one ``cache-features`` run did: clips encoded now, found cached, failed (id -> reason),
    and clips with no media file."""

    cache: Path
    encoded: int = 0
    already: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the cache holds at least one of the recipe's clips."""
        return self.encoded + self.already > 0

    def counts(self) -> dict[str, Any]:
        """The one-line JSON report of the ``cache-features`` verb."""
        return {"encoded": self.encoded, "already": self.already, "failed": len(self.failed),
                "cache": str(self.cache)}


class _PretrainedEncoders:
    """What :func:`build_feature_cache` needs from a model: its config and its encoders, loaded here
    from each encoder's pretrained ``path`` (the LLM itself is never loaded)."""

    def __init__(self, config: EmoLLMConfig):
        towers = {}
        for name, spec in config.encoders.items():
            if spec["kind"] in COMPUTED_KINDS:
                continue
            if not spec.get("path"):
                raise ConfigError(f"encoder {name!r} has no path: caching needs its pretrained weights "
                                  "(random weights would give meaningless features)")
            towers[name], _ = load_encoder(spec["path"])
            spec["config"] = towers[name].config.to_dict()
        self.config = config
        self.encoders = EmoLLMEncoders(config, towers=towers)

    def eval(self) -> _PretrainedEncoders:
        self.encoders.eval()
        return self


def _say(message: str) -> None:
    print(f"emoreason: {message}", file=sys.stderr)


def recipe_clips(recipe: TrainRecipe, videos: Path | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """The recipe's clips as (clip id, media path), each once, and the ids of clips with no media file.

    A record without a ``video`` path is looked for in ``videos`` as ``<clip id><suffix>``; a text-only
    record (``modalities: [text]``, no ``video``) needs no media and is not listed.
    """
    examples, _ = read_examples(recipe.data, recipe.stage, recipe.labels_file, recipe.subtitles_file,
                                label_words=recipe.label_words)
    clips: dict[str, str] = {}
    missing = []
    for ex in examples:
        if ex.clip_id in clips or ex.text_only:
            continue
        path = ex.video
        if path is None and videos is not None:
            path = next((str(videos / f"{ex.clip_id}{s}") for s in MEDIA_SUFFIXES
                         if (videos / f"{ex.clip_id}{s}").is_file()), None)
        if path is None:
            missing.append(ex.clip_id)
            continue
        clips[ex.clip_id] = path
    return list(clips.items()), missing


def cache_features(recipe: TrainRecipe | str | Path, videos: str | Path | None = None,
                   out: str | Path | None = None, shard_size: int = 64) -> CacheSummary:
    """Encode every clip of a recipe (a :class:`TrainRecipe` or its YAML file) with the recipe's
    pretrained encoders into ``out`` (default: the recipe's ``feature_cache``); resumable.

    Clips without a media file and clips that fail to decode are skipped and said so on stderr.
    """
    if not isinstance(recipe, TrainRecipe):
        recipe = load_recipe(recipe)
    if shard_size < 1:
        raise ConfigError("--shard-size must be at least 1")
    encoders = _PretrainedEncoders(EmoLLMConfig(**recipe.model_config))
    clips, missing = recipe_clips(recipe, Path(videos) if videos is not None else None)
    if missing:
        _say(f"{len(missing)} clips have no media file (first: {missing[0]}); pass --videos DIR")
    cache = Path(out) if out is not None else Path(recipe.feature_cache)
    counts = build_feature_cache(encoders, clips, cache, shard_size=shard_size)
    for clip, why in list(counts["failed"].items())[:5]:
        _say(f"skipped {clip}: {why}")
    return CacheSummary(cache, counts["encoded"], counts["already"], counts["failed"], missing)
