"""The compact model's inference steps and shipping: KV-cached label scores equal full scoring, text-only
analysis, ``export_compact`` round trips (fp32 and fp16), and the name ``compact``."""

from __future__ import annotations

import json

import pytest
import safetensors.torch
import torch
from transformers import AutoConfig, AutoModelForCausalLM

import emoreason
from emoreason.cli.main import main
from emoreason.emollm import backbones, checkpoint
from emoreason.emollm.checkpoint import export_compact, load_trained, prepare_placeholders, save_trained
from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.face_measures import FACE_MEASURE_DIM
from emoreason.emollm.infer import answer_word_log_scores, load_for_inference
from emoreason.emollm.instructions import CANONICAL_LABEL_WORDS, emotion_instruction
from emoreason.emollm.lora import apply_lora
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
from emoreason.emollm.processing_emollm import EmoLLMProcessor
from emoreason.emollm.steps import (
    Prepared,
    cached_continuation_log_likelihoods,
    generate_answer,
    score_labels,
)
from emoreason.emollm.tiny import TOKENIZER_SENTENCES, tiny_text_config
from emoreason.emollm.tokenizer import train_wordlevel_tokenizer
from emoreason.errors import ConfigError, ModelError, NoUsableModalityError
from emoreason.labels import CANONICAL
from emoreason.result import Result
from emoreason.training.emollm.refit_projector import main as refit_main
from emoreason.training.emollm.refit_projector import refit_projector

ENCODERS = {"face": {"kind": "face_measures", "feature_dim": FACE_MEASURE_DIM}}
STREAMS = [{"name": "face", "encoder": "face", "select": "mean", "group": 1, "num_tokens": 1,
            "segment": "feature", "projector": "mlp2"}]
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


@pytest.fixture()
def tiny_backbone(tmp_path, monkeypatch):
    """A tiny random Llama + word-level tokenizer registered as the packaged LLM ``tiny-test-llm``."""
    folder = tmp_path / "tiny-llm"
    tok = train_wordlevel_tokenizer(TOKENIZER_SENTENCES)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(AutoConfig.for_model(**tiny_text_config(len(tok)))).save_pretrained(folder)
    tok.save_pretrained(folder)
    entry = backbones.Backbone(TINY_LLM, "llm", "tiny-pkg", "tiny_pkg", "x", "MIT", lambda s, o: None)
    monkeypatch.setitem(backbones.BACKBONES, TINY_LLM, entry)
    monkeypatch.setattr(backbones, "resolve", lambda name: folder if name == TINY_LLM else REAL_RESOLVE(name))
    load_for_inference.cache_clear()
    yield folder
    load_for_inference.cache_clear()


def _trained_run(root, seed: int = 0):
    """A LoRA run around the tiny backbone, its LoRA and projector weights made non-trivial."""
    config = EmoLLMConfig(encoders=ENCODERS, streams=STREAMS, label_words=list(CANONICAL_LABEL_WORDS),
                          label_set="canonical", text_model_path=TINY_LLM, trained_streams=["face"])
    model = EmoLLMForConditionalGeneration.from_components(config)
    tok = checkpoint.load_tokenizer(backbones.llm_path(TINY_LLM))
    prepare_placeholders(model, tok)
    model = apply_lora(model, r=4, alpha=8, dropout=0.0)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    proc = EmoLLMProcessor(tok, checkpoint.core_model(model).config)
    save_trained(root, model, proc, save_base=False)
    return model.eval(), proc


def _logits(model, proc) -> torch.Tensor:
    feats = {"face": torch.linspace(-1, 1, FACE_MEASURE_DIM).view(1, 1, -1)}
    ids = proc.prompt_ids("we won the game today", "emotion", "which emotion ?", ["face"])
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids]), features=feats).logits


def test_export_compact_round_trip_fp32_and_fp16(tmp_path, tiny_backbone):
    model, proc = _trained_run(tmp_path / "run")
    want = _logits(model, proc)
    out = export_compact(tmp_path / "run", tmp_path / "ship")
    assert sorted(p.name for p in out.iterdir()) == ["adapter", "config.json", "export.json"]  # no tokenizer
    shipped_text = (out / "config.json").read_text() + (out / "adapter" / "adapter_config.json").read_text()
    assert str(tmp_path) not in shipped_text  # names, never this machine's folders
    meta = json.loads((out / "export.json").read_text())
    assert meta["dtype"] == "float32" and meta["llm"] == TINY_LLM
    adapter_cfg = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter_cfg["base_model_name_or_path"] == TINY_LLM
    shipped, shipped_proc = load_trained(out)
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


def test_compact_by_name_and_text_only(tmp_path, tiny_backbone, monkeypatch, capsys):
    monkeypatch.setattr(checkpoint, "compact_dir", lambda: tmp_path / "not-installed")
    with pytest.raises(ModelError, match="compact model is not installed"):
        emoreason.analyze(text="we won the game today", model="compact")
    assert main(["analyze", "--text", "we won the game today", "--model", "compact"]) != 0
    assert "compact model is not installed" in capsys.readouterr().err

    _trained_run(tmp_path / "run")
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


# ---- refitting one projector (emoreason.training.emollm.refit_projector) ----
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


def test_refit_changes_only_that_projector_and_the_loss_falls(tmp_path, tiny_backbone):
    _trained_run(tmp_path / "run")
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


def test_refit_mistakes_are_clear(tmp_path, tiny_backbone, capsys):
    _trained_run(tmp_path / "run")
    data, cache = _data(tmp_path)
    with pytest.raises(ConfigError, match="no 'audio' projector"):
        refit_projector(tmp_path / "run", data, cache, tmp_path / "o1", stream="audio")
    with pytest.raises(ConfigError, match="no labelled record"):
        refit_projector(tmp_path / "run", data, cache, tmp_path / "o2", stream="face", corpus="nope")
    (tmp_path / "taken").mkdir()
    args = [str(tmp_path / "run"), str(data), str(cache), str(tmp_path / "taken"), "--stream", "face"]
    assert refit_main(args) == 2
    assert "exists" in capsys.readouterr().err
