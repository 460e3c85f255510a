"""The compact model's inference steps and shipping: KV-cached label scores equal full scoring, text-only
analysis, ``export_compact`` round trips (fp32 and fp16), and the name ``compact``."""

from __future__ import annotations

import json
import warnings

import pytest
import safetensors.torch
import torch

import emoreason
from emoreason.cli.main import main
from emoreason.emollm import backbones, checkpoint
from emoreason.emollm.checkpoint import export_compact, load_trained
from emoreason.emollm.face_measures import FACE_MEASURE_DIM
from emoreason.emollm.infer import answer_word_log_scores, load_for_inference
from emoreason.emollm.instructions import emotion_instruction
from emoreason.emollm.steps import (
    Prepared,
    cached_continuation_log_likelihoods,
    generate_answer,
    score_labels,
)
from emoreason.errors import ConfigError, ModelError, NoUsableModalityError
from emoreason.labels import CANONICAL
from emoreason.result import Result

TINY_LLM = "tiny-test-llm"
REAL_RESOLVE = backbones.resolve


def test_kv_cached_label_scores_equal_full_scoring(tiny, make_features):
    model, proc = tiny
    model.eval()
    feats = {k: v.unsqueeze(0) for k, v in make_features(model).items()}
    prompt = proc.prompt_ids("we won the game today", "emotion", "which emotion ?", list(feats))
    words = ["happy", "the voice is bright and loud", "sad", "smiles widely"]
    assert len({len(proc.answer_ids(w)) for w in words}) == 3  # continuations of different lengths
    full = answer_word_log_scores(model, proc, prompt, words, feats)
    cached = cached_continuation_log_likelihoods(model, prompt, [proc.answer_ids(w) for w in words], feats)
    torch.testing.assert_close(cached, full, atol=1e-4, rtol=0)
    prepared = Prepared(feats, "we won the game today")
    probs = score_labels(model, proc, prepared)
    unbatched = Prepared({k: v[0].half() for k, v in feats.items()}, prepared.subtitle)  # as cached
    assert score_labels(model, proc, unbatched) == pytest.approx(probs, abs=1e-3)
    assert list(probs) == list(model.config.label_words) and sum(probs.values()) == pytest.approx(1.0)
    ref_prompt = proc.prompt_ids(prepared.subtitle, "emotion", emotion_instruction(model.config.label_words),
                                 list(feats))
    ref = torch.softmax(answer_word_log_scores(model, proc, ref_prompt, list(probs), feats), 0)
    torch.testing.assert_close(torch.tensor(list(probs.values())), ref, atol=1e-4, rtol=0)


def _logits(model, proc) -> torch.Tensor:
    feats = {"face": torch.linspace(-1, 1, FACE_MEASURE_DIM).view(1, 1, -1)}
    ids = proc.prompt_ids("we won the game today", "emotion", "which emotion ?", ["face"])
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids]), features=feats).logits


def test_export_compact_round_trip_fp32_and_fp16(tmp_path, tiny_compact_run):
    model, proc = tiny_compact_run(tmp_path / "run")
    want = _logits(model, proc)
    out = export_compact(tmp_path / "run", tmp_path / "ship")
    assert sorted(p.name for p in out.iterdir()) == ["adapter", "config.json", "export.json"]  # no tokenizer
    shipped_text = (out / "config.json").read_text() + (out / "adapter" / "adapter_config.json").read_text()
    assert str(tmp_path) not in shipped_text  # names, never this machine's folders
    meta = json.loads((out / "export.json").read_text())
    assert meta["dtype"] == "float32" and meta["llm"] == TINY_LLM
    adapter_cfg = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter_cfg["base_model_name_or_path"] == TINY_LLM
    with warnings.catch_warnings(record=True) as caught:  # loading says nothing to the user
        warnings.simplefilter("always")
        shipped, shipped_proc = load_trained(out)
    assert not [str(w.message)[:80] for w in caught if w.category in (UserWarning, FutureWarning)]
    assert shipped_proc.config.placeholder_token_ids == proc.config.placeholder_token_ids
    torch.testing.assert_close(_logits(shipped, shipped_proc), want, atol=1e-6, rtol=0)

    half = export_compact(tmp_path / "run", tmp_path / "ship16", max_fp32_bytes=0)
    weights = safetensors.torch.load_file(str(half / "adapter" / "adapter_model.safetensors"))
    assert {t.dtype for t in weights.values()} == {torch.float16}
    loaded, loaded_proc = load_trained(half)
    trained = [p for n, p in loaded.named_parameters() if "lora_" in n or "projectors" in n]
    assert trained and all(p.dtype == torch.float32 for p in trained)
    got = _logits(loaded, loaded_proc)
    assert not torch.equal(got, want)
    torch.testing.assert_close(got, want, atol=2e-2, rtol=0)

    (tmp_path / "run" / "base").mkdir()
    with pytest.raises(ConfigError, match="only a LoRA run around a packaged LLM"):
        export_compact(tmp_path / "run", tmp_path / "ship")
    assert (tmp_path / "ship" / "config.json").is_file()  # a failed export leaves the old folder


def test_compact_by_name_and_text_only(tmp_path, tiny_compact_run, monkeypatch, capsys):
    monkeypatch.setattr(checkpoint, "compact_dir", lambda: tmp_path / "not-installed")
    with pytest.raises(ModelError, match="compact model is not installed"):
        emoreason.analyze(text="we won the game today", model="compact")
    assert main(["analyze", "--text", "we won the game today", "--model", "compact"]) != 0
    assert "compact model is not installed" in capsys.readouterr().err

    tiny_compact_run(tmp_path / "run")
    export_compact(tmp_path / "run", tmp_path / "ship")
    monkeypatch.setattr(checkpoint, "compact_dir", lambda: tmp_path / "ship")
    r = emoreason.analyze(text="we won the game today", model="compact", reason=False,
                          context=["I can not believe it ."])
    assert r.input == "<text>" and r.label in CANONICAL and sum(r.scores.values()) == pytest.approx(1.0)
    assert r.explanation == ""
    assert r.transcript.startswith("we won the game today (earlier in the conversation")
    assert isinstance(r.provenance["emollm_answer"], str)
    assert isinstance(r.provenance["emollm_answer_parsed"], bool)
    assert r.modalities["text"].used and not r.modalities["face"].used
    assert main(["analyze", "--text", "we won the game today", "--model", "compact", "-o",
                 str(tmp_path / "r.json")]) == 0
    assert Result.from_dict(json.loads((tmp_path / "r.json").read_text())).label in CANONICAL
    with pytest.raises(NoUsableModalityError):
        emoreason.analyze(text="", model="compact")
    with pytest.raises(ConfigError, match="reason=False"):
        emoreason.analyze(text="hi", reason=False)
    model, proc = load_for_inference("compact")
    answer = generate_answer(model, proc, Prepared({}, "we won the game today"), "reason", 5)
    assert isinstance(answer, str)

    load_for_inference.cache_clear()  # the backbone's package missing: its own error names the package
    monkeypatch.setattr(backbones, "resolve", REAL_RESOLVE)
    with pytest.raises(ModelError, match="needs the 'tiny-pkg' package"):
        emoreason.analyze(text="we won the game today", model="compact")
