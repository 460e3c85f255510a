"""The multilingual words model: the packaged encoder offline, the head's file round trip and checks,
occlusion units (CJK windows), and the shipped head on clear sentences in several languages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoreason.errors import ConfigError, ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.text.multilingual import (
    META_FILE,
    WEIGHTS_FILE,
    MultilingualHead,
    MultilingualTextModel,
    default_multilingual_dir,
    text_units,
)
from emoreason.perception.text.multilingual_encoder import MultilingualEncoder


@pytest.fixture(scope="module")
def use() -> MultilingualEncoder:
    return MultilingualEncoder("use", threads=1)


@pytest.fixture(scope="module")
def model() -> MultilingualTextModel:
    return MultilingualTextModel(threads=1)


def test_use_embeds_a_batch_offline_and_aligns_translations(use, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = ["I am very happy today", "Estoy muy feliz hoy", "我今天很高兴", "The train leaves at noon", ""]
    emb = use.encode(texts)
    assert emb.shape == (5, 512) and emb.dtype == np.float32
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    sim = emb @ emb.T
    assert sim[0, 1] > sim[0, 3] + 0.2 and sim[0, 2] > sim[0, 3] + 0.2  # translations sit together
    assert np.allclose(use.encode(texts[:2]), emb[:2], atol=1e-6)  # the same alone as in a batch
    assert use.encode([]).shape == (0, 512)


def test_unknown_encoder_is_a_config_error():
    with pytest.raises(ConfigError, match="must be one of"):
        MultilingualEncoder("bert")


def _random_head(hidden: int | None) -> MultilingualHead:
    rng = np.random.default_rng(0)
    dims = [512] + ([hidden] if hidden else []) + [len(CANONICAL)]
    layers = [(rng.normal(size=(a, b)), rng.normal(size=b)) for a, b in zip(dims[:-1], dims[1:])]
    return MultilingualHead("use", rng.normal(size=512), rng.uniform(0.5, 2, 512), layers, 1.3,
                            meta={"name": "test head"})


@pytest.mark.parametrize("hidden", [None, 16])
def test_head_round_trip_and_malformed_files(tmp_path, hidden):
    head = _random_head(hidden)
    head.save(tmp_path)
    back = MultilingualHead.load(tmp_path)
    x = np.random.default_rng(1).normal(size=(4, 512))
    assert np.allclose(back.predict_proba(x), head.predict_proba(x), atol=1e-4)
    assert back.temperature == 1.3 and back.meta["name"] == "test head" and back.labels == CANONICAL
    meta = json.loads((tmp_path / META_FILE).read_text())
    (tmp_path / META_FILE).write_text(json.dumps(dict(meta, encoder="e5")))  # 384 inputs, not 512
    with pytest.raises(ModelError, match="first layer"):
        MultilingualHead.load(tmp_path)
    (tmp_path / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        MultilingualHead.load(tmp_path)


def test_units_are_words_and_two_character_windows_over_cjk():
    text = "Estoy muy feliz"
    assert [text[s:e] for s, e in text_units(text)] == ["Estoy", "muy", "feliz"]
    zh = "我很高兴，谢谢你"
    assert [zh[s:e] for s, e in text_units(zh)] == ["我很", "很高", "高兴", "，", "谢谢", "谢你"]
    mixed = "OK 太好了"
    assert [mixed[s:e] for s, e in text_units(mixed)] == ["OK", "太好", "好了"]


def test_shipped_head_reads_clear_sentences_in_several_languages(model):
    assert (default_multilingual_dir() / META_FILE).is_file()
    texts = {"happy": ["Estoy muy feliz, es el mejor día de mi vida", "Ich bin so glücklich, danke!",
                       "我太高兴了，这是最好的消息"],
             "angry": ["¡Estoy furioso contigo, lárgate de aquí!", "Ich bin so wütend auf dich, hau ab!"],
             "sad": ["Estoy muy triste, mi madre murió", "Olen niin surullinen, hän kuoli"]}
    flat = [(lab, t) for lab, ts in texts.items() for t in ts]
    probs = model.predict_proba([t for _, t in flat])
    assert probs.shape == (len(flat), 7) and np.allclose(probs.sum(axis=1), 1.0)
    got = [CANONICAL[int(k)] for k in probs.argmax(axis=1)]
    assert sum(g == lab for g, (lab, _) in zip(got, flat)) >= len(flat) - 1, list(zip(got, flat))


def test_key_words_quote_the_original_script(model):
    zh, es = "我太高兴了，这是最好的消息", "Estoy muy feliz hoy"
    labels = model.predict_proba([zh, es]).argmax(axis=1)
    keys = model.key_words([(zh, int(labels[0])), (es, int(labels[1])), ("feliz", int(labels[1]))])
    assert keys[2] is None  # one word: nothing to occlude
    for text, key in zip((zh, es), keys[:2]):
        if key is not None:
            word, drop, k = key
            assert word in text and drop >= 0.1 and 0 <= k < len(text_units(text))
    many = model.key_words([(es, int(labels[1]))] * 3)
    assert many == [keys[1]] * 3  # batched: the same answer for each copy
