"""The LoRA text model on a tiny random MiniLM-shaped base: context formatting, save/merge/load,
refusal of wrong files, and that training learns."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from emoreason.errors import ModelError  # noqa: E402
from emoreason.labels import CANONICAL  # noqa: E402
from emoreason.perception.text.lora import (  # noqa: E402
    META_FILE,
    WEIGHTS_FILE,
    LoraSpec,
    LoraTextModel,
    build_network,
    file_sha256,
    format_context,
    merge_adapters,
    tokenize,
)
from emoreason.perception.text.numpy_bert import NumpyBert  # noqa: E402
from emoreason.perception.text.sentence_encoder import default_minilm_dir  # noqa: E402


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    """A 2-layer, 32-wide BERT with random weights and MiniLM's tokenizer files."""
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-minilm")
    src = default_minilm_dir()
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copy(src / name, folder / name)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=256)
    BertModel(cfg).save_pretrained(folder, safe_serialization=True)
    return folder


def _random_adapters(network, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in network.named_parameters():
            if ".lora_" in name or name.startswith("classifier."):
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)


def test_context_is_most_recent_first_and_limited():
    history = ["first one", "  ", "second   one", "third"]
    assert format_context(history, 2) == "third [SEP] second one"
    assert format_context(history, 0) == "" and format_context([], 3) == ""


def test_an_utterance_is_encoded_alike_with_or_without_other_contexts_in_the_batch(tiny_base):
    _, tok = build_network(tiny_base, LoraSpec(rank=2, alpha=4), 7)
    alone = tokenize(tok, ["I am fine"], [""], 64)
    mixed = tokenize(tok, ["I am fine", "What?"], ["", "a much longer context [SEP] with two turns"], 64)
    n = int(alone["attention_mask"].sum())
    assert mixed["input_ids"][0, :n].tolist() == alone["input_ids"][0].tolist()
    long = tokenize(tok, ["word " * 300], ["ctx " * 300], 64)
    assert long["input_ids"].shape[1] == 64  # both parts truncated, never an error


def test_save_merge_load_gives_the_trained_networks_probabilities(tiny_base, tmp_path):
    spec = LoraSpec(rank=4, alpha=8, max_length=64, context_turns=2)
    network, tok = build_network(tiny_base, spec, len(CANONICAL))
    _random_adapters(network)
    network.eval()
    LoraTextModel.save(tmp_path, network, spec, tuple(CANONICAL), 1.3,
                       file_sha256(tiny_base / "model.safetensors"), {"name": "test"})
    model = LoraTextModel.load(tmp_path, tiny_base)
    texts, hist = ["I love it!", "Get out."], [["hello there"], []]
    with torch.no_grad():  # the unmerged network, with the adapters rounded as they are stored
        for name, p in network.named_parameters():
            if ".lora_" in name or name.startswith("classifier."):
                p.copy_(p.half().float())
        b = tokenize(tok, texts, [format_context(h, 2) for h in hist], 64)
        logits = network(b["input_ids"], b["attention_mask"], b["token_type_ids"])
        want = torch.softmax(logits.double() / 1.3, -1)
    got = model.predict_proba(texts, hist)
    assert got.shape == (2, 7) and np.allclose(got.sum(1), 1.0)
    assert np.allclose(got, want.numpy(), atol=1e-4)
    # merging changed the base weights (the numpy model holds no adapters, only merged linears)
    assert not np.allclose(model.encoder.w["0.qkv.w"], NumpyBert.load(tiny_base).w["0.qkv.w"])
    assert not np.allclose(got, LoraTextModel.load(tmp_path, tiny_base).predict_proba(texts, [[], []]))


def test_wrong_base_missing_or_mismatched_files_are_refused(tiny_base, tmp_path):
    spec = LoraSpec(rank=2, alpha=4, max_length=32, context_turns=1)
    network, _ = build_network(tiny_base, spec, 7)
    LoraTextModel.save(tmp_path / "a", network, spec, tuple(CANONICAL), 1.0, "0" * 64, {})
    with pytest.raises(ModelError, match="another MiniLM"):
        LoraTextModel.load(tmp_path / "a", tiny_base)
    sha = file_sha256(tiny_base / "model.safetensors")
    LoraTextModel.save(tmp_path / "b", network, spec, tuple(CANONICAL), 1.0, sha, {})
    meta = json.loads((tmp_path / "b" / META_FILE).read_text())
    meta["rank"] = 3  # adapters of rank 2 cannot fill rank-3 slots
    (tmp_path / "b" / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="shape"):
        LoraTextModel.load(tmp_path / "b", tiny_base)
    (tmp_path / "b" / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        LoraTextModel.load(tmp_path / "b", tiny_base)


def test_merge_equals_unmerged_forward(tiny_base):
    spec = LoraSpec(rank=4, alpha=16)
    network, tok = build_network(tiny_base, spec, 7, dropout=0.0)
    _random_adapters(network, seed=3)
    network.eval()
    b = tokenize(tok, ["so happy today", "no"], ["", "why"], 32)
    with torch.no_grad():
        before = network(b["input_ids"], b["attention_mask"], b["token_type_ids"])
        merge_adapters(network)
        after = network(b["input_ids"], b["attention_mask"], b["token_type_ids"])
    assert torch.allclose(before, after, atol=1e-4)


def _dialogue_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID"])
        for i, (text, label, dia, utt) in enumerate(rows):
            w.writerow([i + 1, text, "A", label, "x", dia, utt])


def test_training_learns_a_separable_toy_task_and_writes_loadable_files(tmp_path):
    """On the real MiniLM (it ships with the package), eight sentences, CPU, a few seconds."""
    from emoreason.training.text import finetune as text_finetune
    base = default_minilm_dir()

    happy = ["I love this so much", "what a wonderful day", "this is great news", "I am so happy"]
    angry = ["I hate you", "get out of here now", "this makes me furious", "you ruined everything"]
    rows = ([(t, "joy", k, 0) for k, t in enumerate(happy)]
            + [(t, "anger", 10 + k, 0) for k, t in enumerate(angry)])
    (tmp_path / "meld").mkdir()
    for split in ("train", "dev"):
        _dialogue_csv(tmp_path / "meld" / f"{split}_sent_emo.csv", rows)
    spec = LoraSpec(rank=4, alpha=8, max_length=32, context_turns=1)
    cfg = {"epochs": 10, "lr": 3e-3, "batch_size": 2, "dropout": 0.0, "weight_decay": 0.0,
           "context_dropout": 0.0, "class_weight_power": 0.5, "label_smoothing": 0.0, "full_finetune": False,
           "add_emorynlp": False}
    report = text_finetune.run(tmp_path, tmp_path / "out", [0], spec, cfg, "cpu", base, None,
                               log=lambda m: None)
    history = report["seeds"]["0"]["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert report["shipped_file"]["accuracy"] == 1.0  # the saved, merged files reproduce the training
    assert report["baselines"]["majority"]["accuracy"] == 0.5
    model = LoraTextModel.load(tmp_path / "out" / "lora_s0", base)
    assert model.meta["trained_on"] == "meld-train" and model.spec == spec and model.meta["seed"] == 0
    ensemble = json.loads((tmp_path / "out" / "text_ensemble.json").read_text())
    # no head in that folder
    assert ensemble["members"] == [{"kind": "lora", "path": "lora_s0", "weight": 1.0}]
