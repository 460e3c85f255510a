"""``--features RECIPE``: the multimodal LLM's feature cache for the built clips (slow: transformers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fake_perception import FAKE_PERCEIVER

from emoreason.dataset_builder.builder import BuildOptions
from emoreason.dataset_builder.runner import build_dataset


@pytest.mark.slow
def test_feature_cache_for_built_clips(clip_dir, tmp_path, capsys):
    tiny = pytest.importorskip("emoreason.emollm.tiny")
    model_config = tiny.write_tiny_project(tmp_path / "tiny")
    shipped = Path(__file__).parents[2] / "configs" / "emollm" / "tiny_cpu.yaml"
    recipe = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    recipe["model_config"]["encoders"] = model_config["encoders"]
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    out = tmp_path / "out"
    options = BuildOptions(perceiver=FAKE_PERCEIVER, features=str(tmp_path / "recipe.yaml"))
    summary = build_dataset(clip_dir, out, options, progress=False)
    assert summary.features["clips_cached"] == 5 and summary.features["rc"] == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["encoded"] == 5
    index = json.loads((out / "features" / "index.json").read_text())
    assert set(index["clips"]) == {"happy_a", "surprise_b", "mismatch_c", "neutral_d", "happy_e"}
    derived = yaml.safe_load((out / "features_recipe.yaml").read_text())
    assert derived["data"] == [str(out.resolve() / "dataset.jsonl")]
    again = build_dataset(clip_dir, out, options, progress=False)
    assert again.features["clips_cached"] == 5
    counts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert counts["encoded"] == 0 and counts["already"] == 5  # resumed: nothing encoded twice
