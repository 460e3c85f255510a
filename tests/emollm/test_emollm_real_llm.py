"""Training around an LLM loaded from a folder (as a real one is), not the random-LLM path."""

from __future__ import annotations

import json

import pytest
import safetensors.torch
import torch
import yaml
from accelerate.state import AcceleratorState
from transformers import AutoConfig, AutoModelForCausalLM

from emoreason.cli.main import main
from emoreason.emollm.dataset import InstructionExample
from emoreason.emollm.recipe import recipe_from_dict
from emoreason.emollm.tiny import write_tiny_project
from emoreason.emollm.train import build_for_training


def _llm_project(root, out_name="runs/stage1", llm_dtype=torch.float32):
    """Tiny encoders, clips, data and an LLM folder stored in ``llm_dtype`` (LLaMA-2-chat's are fp16)."""
    model_config = write_tiny_project(root)
    text_config = model_config.pop("text_config")
    llm = AutoModelForCausalLM.from_config(AutoConfig.for_model(**text_config)).to(llm_dtype)
    llm.save_pretrained(root / "llm")
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


def test_bf16_false_means_fp32_even_for_an_fp16_checkpoint(tmp_path):
    recipe = recipe_from_dict(dict(_llm_project(tmp_path, llm_dtype=torch.float16), bf16=False))
    model, _ = build_for_training(recipe, [InstructionExample("c", "emotion", "happy", "we won")])
    dtypes = {p.dtype for p in model.parameters()}
    assert dtypes == {torch.float32}, dtypes


@pytest.fixture()
def fresh_accelerate_state():
    """Accelerate keeps one process-wide state: a test that changes mixed precision starts and ends clean."""
    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def test_bf16_keeps_trainable_weights_fp32_and_trains_them(tmp_path, capsys, fresh_accelerate_state):
    raw = dict(_llm_project(tmp_path, llm_dtype=torch.float16), bf16=True)
    recipe = recipe_from_dict(raw)
    model, _ = build_for_training(recipe, [InstructionExample("c", "emotion", "happy", "we won")])
    trainable = {n: p.dtype for n, p in model.named_parameters() if p.requires_grad}
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    assert any("projectors" in n for n in trainable) and any("lora_A" in n for n in trainable)
    assert set(trainable.values()) == {torch.float32}, trainable
    assert frozen == {torch.bfloat16}  # the frozen LLM is held in bf16 (memory), compute under autocast
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["cache-features", str(tmp_path / "recipe.yaml")]) == 0
    assert main(["train-llm", str(tmp_path / "recipe.yaml")]) == 0, capsys.readouterr().err
    adapter = tmp_path / "runs" / "stage1" / "adapter" / "adapter_model.safetensors"
    saved = safetensors.torch.load_file(str(adapter))
    proj = {k: v for k, v in saved.items() if "projectors" in k}
    assert proj and {v.dtype for v in proj.values()} == {torch.float32}


def test_max_length_too_small_for_the_layout_is_a_config_error(tiny):
    from emoreason.emollm.features import FeatureCache
    from emoreason.emollm.train import InstructionDataset
    from emoreason.errors import ConfigError

    model, proc = tiny

    class _Cache(FeatureCache):
        def __init__(self):
            pass

        def __contains__(self, clip_id):
            return True

    examples = [InstructionExample("c", "reason", "the voice is bright", "we won")]
    with pytest.raises(ConfigError, match="too small for the prompt layout"):
        InstructionDataset(examples, _Cache(), proc, max_length=20)
    assert len(InstructionDataset(examples, _Cache(), proc, max_length=200)) == 1


def test_step_checkpoints_hold_trainable_weights_only_and_are_pruned(tmp_path, capsys):
    from safetensors import safe_open

    raw = dict(_llm_project(tmp_path), save_every=1, keep_checkpoints=2)
    raw["optim"] = dict(raw["optim"], max_steps=3)
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["cache-features", str(tmp_path / "recipe.yaml")]) == 0
    assert main(["train-llm", str(tmp_path / "recipe.yaml")]) == 0, capsys.readouterr().err
    ckpts = tmp_path / "runs" / "stage1" / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["step-2", "step-3"]
    with safe_open(str(ckpts / "step-3" / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and all("lora_" in k or "modules_to_save" in k for k in keys), keys[:5]
    assert not any("embed_tokens" in k for k in keys)
    raw["optim"]["max_steps"] = 4
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    capsys.readouterr()
    assert main(["train-llm", str(tmp_path / "recipe.yaml")]) == 0, capsys.readouterr().err
    assert "resumed from" in capsys.readouterr().out
    assert sorted(p.name for p in ckpts.iterdir()) == ["step-3", "step-4"]
