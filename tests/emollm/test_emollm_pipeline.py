"""End to end on CPU: synthetic clips -> cache-features -> train-llm (Accelerate) -> analyze -> merge-lora."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

import emoreason.emollm.steps as steps
from emoreason.cli.main import main
from emoreason.emollm.infer import analyze_with_emollm, load_for_inference
from emoreason.emollm.tiny import CLIPS, SUBTITLE, write_tiny_project
from emoreason.errors import UnparsableAnswerError


def _setup(root):
    model_config = write_tiny_project(root)
    recipe = {
        "name": "tiny", "stage": "fine", "data": [str(root / "data.jsonl")],
        "feature_cache": str(root / "cache"), "output_dir": str(root / "out"),
        "model_config": model_config, "tokenizer_path": "wordlevel", "tasks": ["emotion"],
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        "optim": {"lr": 1e-2, "min_lr": 1e-3, "weight_decay": 0.0, "warmup_steps": 2, "batch_size": 2,
                  "max_steps": 30},
        "max_length": 160, "log_every": 5, "save_every": 10, "tensorboard": False,
    }
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return root


def test_cache_train_analyze_merge(tmp_path, capsys, monkeypatch):
    root = _setup(tmp_path)

    assert main(["cache-features", str(root / "recipe.yaml"), "--shard-size", "0"]) != 0
    assert "--shard-size must be at least 1" in capsys.readouterr().err
    assert main(["cache-features", str(root / "recipe.yaml")]) == 0
    cached = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert cached["encoded"] == 2 and cached["failed"] == 0
    index = json.loads((root / "cache" / "index.json").read_text())
    assert set(index["clips"]) == set(CLIPS)
    # synthetic clips hold no face: face/temporal streams are left out, frame + audio are cached
    assert set(index["clips"]["clip_happy"]["streams"]) == {"frame_patches", "frame_cls", "audio"}
    assert main(["cache-features", str(root / "recipe.yaml")]) == 0  # resumable: nothing re-encoded
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["already"] == 2

    assert main(["train-llm", str(root / "recipe.yaml"), "--max-steps", "20"]) == 0
    out = root / "out"
    assert (out / "adapter" / "adapter_model.safetensors").is_file() and (out / "base").is_dir()
    assert (out / "checkpoints" / "step-20").is_dir()
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows] == [5, 10, 15, 20]
    assert main(["train-llm", str(root / "recipe.yaml")]) == 0  # resumes at step 20, runs to 30
    assert "resumed from" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert int(rows[-1]["step"]) == 30
    assert float(rows[-1]["loss"]) < 0.1 * float(rows[0]["loss"])

    for cid, (label, _, _) in CLIPS.items():
        res = analyze_with_emollm(root / "videos" / f"{cid}.mp4", out, text=SUBTITLE, reason=False)
        assert res.label == label
        assert abs(sum(res.scores.values()) - 1) < 1e-6 and max(res.scores, key=res.scores.get) == label
        assert any("no face" in n for n in res.notes)
    merr = analyze_with_emollm(root / "videos" / "clip_sad.mp4", out, text=SUBTITLE, label_set="merr",
                               reason=True)
    assert merr.label == "sad" and "sad" in merr.scores and isinstance(merr.explanation, str)

    # an answer naming no label is reported, never turned into "neutral"
    with monkeypatch.context() as m:
        m.setattr(steps, "generate_text", lambda *a, **k: "I cannot tell from this clip.")
        noted = analyze_with_emollm(root / "videos" / "clip_sad.mp4", out, text=SUBTITLE, reason=False)
        assert noted.label == "sad" and any("names no canonical label" in n for n in noted.notes)
        with pytest.raises(UnparsableAnswerError):
            analyze_with_emollm(root / "videos" / "clip_sad.mp4", out, text=SUBTITLE, reason=False,
                                strict=True)

    assert main(["merge-lora", str(out), str(root / "merged")]) == 0
    assert (root / "merged" / "model.safetensors").is_file()
    capsys.readouterr()
    assert main(["merge-lora", str(root / "merged"), str(root / "merged-again")]) != 0
    assert "has no LoRA adapter to merge" in capsys.readouterr().err
    load_for_inference.cache_clear()
    a = analyze_with_emollm(root / "videos" / "clip_happy.mp4", out, text=SUBTITLE, reason=False)
    b = analyze_with_emollm(root / "videos" / "clip_happy.mp4", root / "merged", text=SUBTITLE, reason=False)
    assert a.label == b.label
    for k in a.scores:
        assert abs(a.scores[k] - b.scores[k]) < 1e-3
