"""Training around an LLM loaded from a folder (as a real one is), not the random-LLM path."""

from __future__ import annotations

import json

import yaml
from transformers import AutoConfig, AutoModelForCausalLM

from emoreason.cli.main import main
from emoreason.emollm.tiny import tiny_text_config, write_tiny_project


def _llm_project(root, out_name="runs/stage1"):
    model_config = write_tiny_project(root)
    text_config = model_config.pop("text_config")
    AutoModelForCausalLM.from_config(AutoConfig.for_model(**text_config)).save_pretrained(root / "llm")
    recipe = {
        "name": "real-llm", "stage": "coarse", "data": [str(root / "data.jsonl")],
        "feature_cache": str(root / "cache"), "output_dir": str(root / out_name),
        "model_config": model_config, "text_model_path": str(root / "llm"), "tokenizer_path": "wordlevel",
        "tasks": ["emotion"], "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
        "optim": {"lr": 1e-3, "batch_size": 2, "max_steps": 2},
        "max_length": 160, "log_every": 1, "save_every": 100, "tensorboard": False,
    }
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return recipe


def test_train_with_llm_from_path_creates_output_dir_and_stage2(tmp_path, capsys):
    recipe = _llm_project(tmp_path)
    assert main(["cache-features", str(tmp_path / "recipe.yaml")]) == 0
    assert main(["train-llm", str(tmp_path / "recipe.yaml")]) == 0, capsys.readouterr().err
    out = tmp_path / "runs" / "stage1"
    assert (out / "log.csv").is_file() and (out / "adapter" / "adapter_model.safetensors").is_file()
    assert not (out / "base").exists()  # the LLM comes from its path, not a copy
    stage2 = dict(recipe, stage="fine", init_from=str(out), output_dir=str(tmp_path / "runs" / "s2" / "fine"))
    (tmp_path / "stage2.yaml").write_text(yaml.safe_dump(stage2), encoding="utf-8")
    assert main(["train-llm", str(tmp_path / "stage2.yaml")]) == 0, capsys.readouterr().err
    fine = tmp_path / "runs" / "s2" / "fine"
    assert json.loads((fine / "train_summary.json").read_text())["steps"] == 2
    assert (fine / "adapter" / "adapter_model.safetensors").is_file()
