"""Refitting one projector of a trained multimodal-LLM run (``emoreason.training.emollm.refit_projector``):
only that projector changes, the loss falls, the result loads strictly, and mistakes are clear."""

from __future__ import annotations

import json

import pytest
import safetensors.torch
import torch

from emoreason.emollm import checkpoint
from emoreason.emollm.checkpoint import load_trained
from emoreason.emollm.face_measures import FACE_MEASURE_DIM
from emoreason.errors import ConfigError
from emoreason.training.emollm.refit_projector import main as refit_main
from emoreason.training.emollm.refit_projector import refit_projector

REFIT_WEIGHTS = "adapter/adapter_model.safetensors"


def _data(tmp_path):
    """8 items, two labels, whose features share a large common offset (as the compact model's voice
    means do) and differ by a small label-dependent shift."""
    g = torch.Generator().manual_seed(0)
    offset = torch.randn(FACE_MEASURE_DIM, generator=g) * 10
    records, tensors = [], {}
    for i in range(8):
        label = "happy" if i % 2 else "sad"
        f = offset + (0.5 if label == "happy" else -0.5) + 0.05 * torch.randn(FACE_MEASURE_DIM, generator=g)
        records.append({"id": f"c{i}", "corpus": "toy", "label": label, "subtitle": "we won the game today"})
        tensors[f"c{i}/face"] = f.view(1, -1).half()
    records.append({"id": "other", "corpus": "elsewhere", "label": "sad", "subtitle": "x"})
    tensors["other/face"] = offset.view(1, -1).half()
    cache = tmp_path / "cache"
    cache.mkdir()
    safetensors.torch.save_file(tensors, str(cache / "features-00000.safetensors"))
    clips = {r["id"]: {"shard": "features-00000.safetensors", "streams": ["face"]} for r in records}
    (cache / "index.json").write_text(json.dumps({"clips": clips, "shapes": {"face": [1, FACE_MEASURE_DIM]}}))
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    return data, cache


def test_refit_changes_only_that_projector_and_the_loss_falls(tmp_path, tiny_compact_run):
    tiny_compact_run(tmp_path / "run")
    data, cache = _data(tmp_path)
    summary = refit_projector(tmp_path / "run", data, cache, tmp_path / "refit", stream="face", corpus="toy",
                              epochs=15, lr=3e-2, batch_size=4, log=lambda s: None)
    assert summary["items"] == 8  # the other corpus's record is left out
    assert summary["loss_last_10"] < summary["loss_first_10"]
    before = safetensors.torch.load_file(str(tmp_path / "run" / REFIT_WEIGHTS))
    after = safetensors.torch.load_file(str(tmp_path / "refit" / REFIT_WEIGHTS))
    assert set(before) == set(after)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(".projectors.face." in k for k in changed)
    model, _ = load_trained(tmp_path / "refit")  # strict load
    proj = checkpoint.core_model(model).projectors["face"]
    assert torch.isfinite(proj(torch.zeros(1, FACE_MEASURE_DIM))).all()
    assert json.loads((tmp_path / "refit" / "refit_summary.json").read_text())["stream"] == "face"


def test_refit_mistakes_are_clear(tmp_path, tiny_compact_run, capsys):
    tiny_compact_run(tmp_path / "run")
    data, cache = _data(tmp_path)
    with pytest.raises(ConfigError, match="no 'audio' projector"):
        refit_projector(tmp_path / "run", data, cache, tmp_path / "o1", stream="audio")
    with pytest.raises(ConfigError, match="no labelled record"):
        refit_projector(tmp_path / "run", data, cache, tmp_path / "o2", stream="face", corpus="nope")
    (tmp_path / "taken").mkdir()
    args = [str(tmp_path / "run"), str(data), str(cache), str(tmp_path / "taken"), "--stream", "face"]
    assert refit_main(args) == 2
    assert "exists" in capsys.readouterr().err
