"""EmoLLM model: shapes, the splice, the loss mask, save/load, strict loading, LoRA merge, overfitting."""

from __future__ import annotations

import pytest
import torch

from emoreason.emollm import EmoLLMForConditionalGeneration, parse_answer
from emoreason.emollm.instructions import EMOTION_INSTRUCTIONS
from emoreason.emollm.lora import apply_lora, load_adapter, merge_lora
from emoreason.errors import ModelError

INSTR = EMOTION_INSTRUCTIONS[0]


@pytest.fixture(autouse=True)
def _helpers(make_tiny, make_features):
    global build_tiny, random_features
    build_tiny, random_features = make_tiny, make_features


def _batch(model, proc, answers=("happy", "sad"), seed=0):
    items = [dict(proc.encode("we won the game today", "emotion", INSTR, a),
                  features=random_features(model, seed=seed + i)) for i, a in enumerate(answers)]
    return proc.collate(items)


def test_output_shapes_and_layout(tiny):
    model, proc = tiny
    batch = _batch(model, proc)
    out = model(**batch)
    b, length = batch["input_ids"].shape
    assert out.logits.shape == (b, length, model.config.text_config.vocab_size)
    ids = batch["input_ids"][0]
    for s in model.config.streams:
        assert int((ids == model.config.placeholder_token_ids[s["name"]]).sum()) == s["num_tokens"]
    assert model.config.num_multimodal_tokens == 8


def test_each_feature_lands_at_its_placeholders(tiny):
    model, proc = tiny
    batch = _batch(model, proc)
    embeds = model.embed_multimodal(batch["input_ids"], batch["features"])
    plain = model.get_input_embeddings()(batch["input_ids"])
    is_ph = torch.zeros_like(batch["input_ids"], dtype=torch.bool)
    for s in model.config.streams:
        name = s["name"]
        mask = batch["input_ids"] == model.config.placeholder_token_ids[name]
        is_ph |= mask
        expected = model.project_stream(name, batch["features"][name])  # [B, n, H]
        for row in range(batch["input_ids"].shape[0]):
            assert torch.allclose(embeds[row][mask[row]], expected[row], atol=1e-6)
    assert torch.equal(embeds[~is_ph], plain[~is_ph])


def test_missing_stream_rows_and_mismatch_errors(tiny):
    model, proc = tiny
    full = random_features(model, seed=1)
    no_audio = {k: v for k, v in full.items() if k != "audio"}
    streams = [s["name"] for s in model.config.streams if s["name"] != "audio"]
    items = [dict(proc.encode("hi", "emotion", INSTR, "happy"), features=full),
             dict(proc.encode("hi", "emotion", INSTR, "sad", streams_present=streams), features=no_audio)]
    batch = proc.collate(items)
    assert batch["feature_mask"]["audio"].tolist() == [True, False]
    assert torch.isfinite(model(**batch).loss)
    batch.pop("feature_mask")
    with pytest.raises(ModelError, match="placeholder tokens"):
        model(**batch)
    batch["features"].pop("face")
    with pytest.raises(ModelError, match="no features"):
        model(**batch)


def test_loss_is_on_answer_tokens_only(tiny):
    model, proc = tiny
    batch = _batch(model, proc)
    labels = batch["labels"]
    for row in range(labels.shape[0]):
        n_answer = int((labels[row] != -100).sum())
        answer = proc.answer_ids(["happy", "sad"][row])
        assert n_answer == len(answer)
        assert labels[row][labels[row] != -100].tolist() == answer
    out = model(**batch)
    logits = out.logits[:, :-1]
    target = labels[:, 1:]
    keep = target != -100
    manual = torch.nn.functional.cross_entropy(logits[keep], target[keep])
    assert torch.allclose(out.loss, manual, atol=1e-5)


def test_save_load_identical_logits_and_strict_rejection(tiny, tmp_path):
    model, proc = tiny
    model.eval()
    batch = _batch(model, proc)
    model.save_pretrained(tmp_path / "m")
    loaded = EmoLLMForConditionalGeneration.from_pretrained(tmp_path / "m").eval()
    with torch.no_grad():
        assert torch.allclose(model(**batch).logits, loaded(**batch).logits, atol=1e-5)
    other_cfg = loaded.config.__class__.from_dict(loaded.config.to_dict())
    other_cfg.streams = other_cfg.streams + [dict(other_cfg.streams[-1], name="audio2")]
    with pytest.raises(ModelError, match="missing"):
        EmoLLMForConditionalGeneration.from_pretrained(tmp_path / "m", config=other_cfg)


def test_merged_lora_matches_unmerged_and_adapter_roundtrip(tiny, tmp_path):
    model, proc = tiny
    batch = _batch(model, proc)
    peft_model = apply_lora(model, r=4, alpha=8, dropout=0.0)
    with torch.no_grad():  # make the LoRA deltas non-zero
        for n, p in peft_model.named_parameters():
            if "lora_B" in n:
                p.normal_(std=0.2)
    peft_model.eval()
    with torch.no_grad():
        unmerged = peft_model(**batch).logits
    peft_model.save_pretrained(tmp_path / "adapter")
    fresh, _ = build_tiny(with_encoders=False)
    reloaded = load_adapter(fresh, tmp_path / "adapter")
    with torch.no_grad():
        assert torch.allclose(reloaded(**batch).logits, unmerged, atol=1e-5)
    merged = merge_lora(peft_model)
    assert isinstance(merged, EmoLLMForConditionalGeneration)
    with torch.no_grad():
        assert torch.allclose(merged(**batch).logits, unmerged, atol=1e-4)
    wrong, _ = build_tiny(with_encoders=False)
    wrong.projectors.pop("audio")
    wrong.config.streams = [s for s in wrong.config.streams if s["name"] != "audio"]
    with pytest.raises(ModelError, match="does not fit"):
        load_adapter(wrong, tmp_path / "adapter")


def test_overfit_then_generate_parseable_answer(tiny):
    model, proc = tiny
    peft_model = apply_lora(model, r=8, alpha=16, dropout=0.0)
    batch = _batch(model, proc, answers=("happy", "sad"), seed=3)
    opt = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-2)
    peft_model.train()
    first = None
    for _ in range(30):
        loss = peft_model(**batch).loss
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) <= 0.1 * first
    peft_model.eval()
    for row, want in enumerate(("happy", "sad")):
        prompt = torch.tensor([proc.prompt_ids("we won the game today", "emotion", INSTR)])
        feats = {k: v[row: row + 1] for k, v in batch["features"].items()}
        tok = proc.tokenizer
        new = model.generate(prompt, features=feats, max_new_tokens=4, do_sample=False,
                             eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        text = proc.tokenizer.decode(new[0], skip_special_tokens=True)
        assert parse_answer(text, "merr").label == want
        cands = [proc.answer_ids(w) for w in ("happy", "sad", "neutral")]
        ll = model.continuation_log_likelihoods(prompt, cands, features=feats)
        assert int(ll.argmax()) == row
