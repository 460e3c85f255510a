"""One small run through the real text path: ``emoreason.analyze(text=...)`` inside the harness."""

from __future__ import annotations

from pathlib import Path

from emoreason.eval.evaluate import evaluate
from emoreason.perception.text.head import default_text_model_dir


def test_default_text_model_ships():
    d = default_text_model_dir()
    assert (d / "text_head.json").is_file() and (d / "text_head.safetensors").is_file()


def test_meld_layout_through_the_text_pipeline(tmp_path: Path, meld_tree: Path):
    report = evaluate(
        "meld",
        meld_tree,
        tmp_path / "out",
        split="dev",
        modalities=("text",),
        resamples=0,
        progress=False,
        plots=False,
    )
    s = report["systems"]["default[text]"]
    assert s["n_items"] == 3
    assert s["n_failed"] == 0, s["failures"]
    assert 0.0 <= s["metrics"]["accuracy"]["value"] <= 1.0
    journal = (tmp_path / "out" / "predictions" / "default_text.jsonl").read_text().splitlines()
    assert len(journal) == 3 and '"explanation": ""' not in journal[0]
