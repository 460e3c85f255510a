"""Training around an LLM loaded from a folder (as a real one is), not the random-LLM path."""

from __future__ import annotations

import json

import pytest
import safetensors.torch
import torch
import yaml
from accelerate.state import AcceleratorState
from accelerate.utils import set_seed
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
    # Emotion-LLaMA's stage-1 lr: in bf16, AdamW's 1e-5 steps mostly round away (3 % of entries moved)
    raw["optim"] = dict(raw["optim"], lr=1e-5, min_lr=1e-5, schedule="constant", weight_decay=0.0,
                        max_steps=5)
    recipe = recipe_from_dict(raw)
    set_seed(recipe.seed)  # as train() does: the same initial projectors
    model, _ = build_for_training(recipe, [InstructionExample("c", "emotion", "happy", "we won")])
    before = next(p.detach().clone() for n, p in model.named_parameters()
                  if "projectors.frame_patches" in n and n.endswith("weight") and p.requires_grad)
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
    after = next(v for k, v in proj.items() if "frame_patches" in k and k.endswith("weight"))
    assert (after != before).float().mean().item() > 0.99  # every entry of a fed projector moved


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


def test_bucket_sampler_epoch_reaches_through_the_shard_wrapper():
    from accelerate.data_loader import prepare_data_loader

    from emoreason.emollm.train import BucketBatchSampler, set_epoch

    sampler = BucketBatchSampler(list(range(40)), batch_size=2, seed=0, window=2)
    loader = torch.utils.data.DataLoader(list(range(40)), batch_sampler=sampler)
    shard = prepare_data_loader(loader, num_processes=2, process_index=0, put_on_device=False)
    orders = []
    for epoch in (0, 1):
        set_epoch(shard, sampler, epoch)
        orders.append([b.tolist() for b in shard])
    assert len(orders[0]) == 10 and orders[0] != orders[1]


def _expected_lrs(raw, steps):
    from emoreason.emollm.train import lr_lambda

    factor = lr_lambda(recipe_from_dict(raw), raw["optim"]["max_steps"])
    return [raw["optim"]["lr"] * factor(k) for k in range(1, steps + 1)]


def _schedule_project(tmp_path):
    raw = _llm_project(tmp_path)
    raw["optim"] = dict(raw["optim"], batch_size=1, max_steps=4, warmup_steps=2, lr=1e-3, min_lr=1e-4)
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["cache-features", str(tmp_path / "recipe.yaml")]) == 0
    return raw


def _logged(tmp_path):
    import csv

    with open(tmp_path / "runs" / "stage1" / "log.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_scheduler_steps_once_per_optimizer_step_with_grad_accum(tmp_path, capsys):
    raw = _schedule_project(tmp_path)
    raw["optim"]["grad_accum"] = 2
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["train-llm", str(tmp_path / "recipe.yaml")]) == 0, capsys.readouterr().err
    rows = _logged(tmp_path)
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert [float(r["lr"]) for r in rows] == pytest.approx(_expected_lrs(raw, 4), rel=1e-3)


@pytest.mark.slow
def test_two_processes_step_the_scheduler_once_per_optimizer_step(tmp_path):
    """DDP on 2 CPU processes (gloo): the schedule follows optimizer steps (it ran 2x too fast), a batch
    without a face stream does not stop DDP (unused projector), and log.csv keeps its header."""
    import os
    import socket
    import subprocess
    import sys

    raw = _schedule_project(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, ACCELERATE_USE_CPU="true", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
           "-m", "emoreason.cli.main", "train-llm", str(tmp_path / "recipe.yaml")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _logged(tmp_path)
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]  # 2 clips, 1 per process: 1 step per epoch
    assert [float(r["lr"]) for r in rows] == pytest.approx(_expected_lrs(raw, 4), rel=1e-3)


def test_streams_never_trained_are_reported_at_inference(tmp_path, capsys):
    from emoreason.emollm.infer import analyze_with_emollm, load_for_inference
    from emoreason.emollm.tiny import SUBTITLE

    _llm_project(tmp_path)
    assert main(["cache-features", str(tmp_path / "recipe.yaml")]) == 0
    index_path = tmp_path / "cache" / "index.json"
    index = json.loads(index_path.read_text())
    for entry in index["clips"].values():  # no training clip has audio
        entry["streams"] = [s for s in entry["streams"] if s != "audio"]
    index_path.write_text(json.dumps(index))
    assert main(["train-llm", str(tmp_path / "recipe.yaml")]) == 0, capsys.readouterr().err
    out = tmp_path / "runs" / "stage1"
    assert json.loads((out / "config.json").read_text())["trained_streams"] == ["frame_cls", "frame_patches"]
    load_for_inference.cache_clear()
    res = analyze_with_emollm(tmp_path / "videos" / "clip_sad.mp4", out, text=SUBTITLE, reason=False)
    assert "audio" in res.modalities["voice"].details["streams"]
    assert any("never seen in training" in n and "audio" in n for n in res.notes), res.notes
