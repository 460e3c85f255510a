"""The multimodal LLM's feature cache for a built dataset (``build-dataset --features RECIPE``).

The cache itself is the multimodal LLM's (:func:`emoreason.emollm.features.cache_features`, the
``cache-features`` step: frozen encoders into safetensors shards, resumable). Here the builder derives
a recipe from the user's train-llm recipe whose ``data`` is the built ``dataset.jsonl`` and whose
``feature_cache`` is ``OUT/features``, saves it as ``OUT/features_recipe.yaml`` (ready for
``emoreason train-llm`` too), and runs the cache step on it in this process, after the per-clip stage
(the encoders run once, not once per worker).

``emoreason.emollm.features`` needs torch (the ``llm`` extra), so it is imported inside
:func:`cache_features`, when ``--features`` is asked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from emoreason.emollm.recipe import read_recipe_mapping
from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_write_text


def cache_features(out_dir: str | Path, recipe_path: str | Path) -> dict[str, Any]:
    """Encode every built clip with the recipe's encoders into ``OUT/features``; returns counts."""
    try:
        from emoreason.emollm import features
    except ImportError as exc:
        raise ConfigError(f"--features needs the multimodal-LLM extra: pip install 'emoreason[llm]' "
                          f"({exc})") from None
    out = Path(out_dir).resolve()
    raw = read_recipe_mapping(recipe_path)
    raw["data"] = [str(out / "dataset.jsonl")]
    raw["feature_cache"] = str(out / "features")
    derived = out / "features_recipe.yaml"
    atomic_write_text(derived, yaml.safe_dump(raw, sort_keys=False))
    summary = features.cache_features(derived, out=out / "features")
    print(json.dumps(summary.counts()))
    index = out / "features" / "index.json"
    cached = json.loads(index.read_text(encoding="utf-8"))["clips"] if index.is_file() else {}
    return {"recipe": str(derived), "cache": str(out / "features"), "clips_cached": len(cached),
            "rc": 0 if summary.ok else 1}
