"""Text emotion: the shipped ensemble on clear sentences, pooling, evidence, its head and files,
determinism."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from emoreason import analyze
from emoreason.errors import ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.text.analyzer import TextAnalyzer
from emoreason.perception.text.ensemble import ENSEMBLE_FILE, TextEnsemble
from emoreason.perception.text.head import META_FILE, WEIGHTS_FILE, TextHead, default_text_model_dir
from emoreason.perception.text.transcript import Transcript, TranscriptSegment, Word


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def _asr(*parts: tuple[float, float, str, float]) -> Transcript:
    segs = []
    for start, end, text, conf in parts:
        toks = text.split()
        step = (end - start) / len(toks)
        words = [Word(w, start + i * step, start + (i + 1) * step, conf) for i, w in enumerate(toks)]
        segs.append(TranscriptSegment(start, end, text, words, conf))
    return Transcript(segs, source="asr:test")


def test_clear_happy_and_angry_sentences_are_ordered(analyzer):
    happy = analyzer.analyze("I love you so much, this is wonderful, thank you!").scores
    angry = analyzer.analyze("Get out of my house right now, I am furious with you, you idiot!").scores
    assert happy["happy"] > angry["happy"] and angry["angry"] > happy["angry"]
    assert max(happy, key=happy.get) == "happy"
    assert max(angry, key=angry.get) == "angry"
    for s in (happy, angry):
        assert list(s) == list(CANONICAL) and sum(s.values()) == pytest.approx(1.0)
        assert all(0.0 <= v <= 1.0 for v in s.values())


def test_empty_transcript_is_unusable(analyzer):
    blank = Transcript([TranscriptSegment(0, 1, " ")], "user")
    for empty in ("", "   ", Transcript([], source="asr:x"), blank):
        out = analyzer.analyze(empty)
        assert not out.usable and out.modality == "text" and out.reason == "no words were recognised"
        assert out.reliability == 0.0 and out.scores == {}


def test_timeline_pooling_evidence_and_reliability_follow_asr_confidence(analyzer):
    t = _asr((0.5, 2.0, "I am so happy, I love it!", 0.9), (3.0, 5.0, "Why would you do that to me?", 0.5))
    out = analyzer.analyze(t)
    assert out.usable and len(out.timeline) == 2
    assert [(s.start, s.end, s.text) for s in out.timeline][0] == (0.5, 2.0, "I am so happy, I love it!")
    weights = np.array([s.weight for s in out.timeline])
    probs = np.array([[s.scores[k] for k in CANONICAL] for s in out.timeline])
    pooled = (probs * weights[:, None]).sum(0) / weights.sum()
    assert np.allclose(pooled, [out.scores[k] for k in CANONICAL])
    assert weights[0] > weights[1]  # fewer words at lower confidence count for less
    assert out.reliability == pytest.approx(t.confidence) and 0.5 < out.reliability < 0.9
    quote = next(e for e in out.evidence if e.name == "words" and e.supports == "happy")
    assert quote.description == "says 'I am so happy, I love it!'" and (quote.start, quote.end) == (0.5, 2.0)
    polarity = next(e for e in out.evidence if e.name == "sentiment")
    assert "VADER" in polarity.description and polarity.value > 0
    assert out.details["transcript"] == t.text and out.details["segments"] == 2
    assert out.details["utterances"][1] == {"start": 3.0, "end": 5.0, "text": "Why would you do that to me?",
                                            "confidence": 0.5}


def test_key_word_evidence_points_at_a_real_word_with_its_time(analyzer):
    t = _asr((1.0, 3.0, "I hate this stupid thing", 0.95))
    out = analyzer.analyze(t)
    keys = [e for e in out.evidence if e.name == "key word"]
    for e in keys:  # only when removing the word really moves the score
        word = e.description.split("'")[1]
        assert word in t.text and e.value >= 0.1
        match = next(w for w in t.segments[0].words if w.text == word)
        assert (e.start, e.end) == (match.start, match.end)


def test_user_text_is_fully_reliable_and_untimed(analyzer):
    out = analyzer.analyze("Thank you, that is very kind.")
    assert out.reliability == 1.0
    assert all(e.start is None for e in out.evidence)


def test_strongly_negative_wording_is_reported(analyzer):
    out = analyzer.analyze("This is terrible, horrible, the worst thing that ever happened. I hate it.")
    polarity = next(e for e in out.evidence if e.name == "sentiment")
    assert polarity.value <= -0.5 and polarity.description.startswith("strongly negative wording (VADER -0.")


def test_same_input_same_output(analyzer):
    t = _asr((0.0, 1.5, "Oh my god, really?", 0.8), (2.0, 4.0, "I can't believe you did that.", 0.7))
    context = ["Guess what happened"]
    a, b = analyzer.analyze(t, context=context), analyzer.analyze(t, context=context)
    assert a.scores == b.scores and [e.description for e in a.evidence] == [e.description for e in b.evidence]


def test_shipped_model_is_small_pickle_free_and_an_ensemble(analyzer):
    folder = default_text_model_dir()
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 10 * 1024 * 1024
    assert not any(p.suffix in {".pkl", ".pickle", ".joblib", ".pt", ".bin"} for p in files)
    spec = json.loads((folder / ENSEMBLE_FILE).read_text())
    assert sum(m["weight"] for m in spec["members"]) == pytest.approx(1.0, abs=1e-5)
    model = analyzer.model
    assert len(model.loras) == 3 and model.head is not None and model.uses_context
    assert model.head_weight == pytest.approx(1 / 3, abs=1e-5)
    assert set(model.head.labels) == set(CANONICAL)


def test_ensemble_averages_its_members_and_context_changes_the_lora_part(analyzer):
    model = analyzer.model
    texts, hist = ["Are you kidding me?"], [["I sold your car.", "I needed the money."]]
    total = sum(w * m.predict_proba(texts, hist) for m, w in model.loras)
    total = total + model.head_weight * model._head_proba(texts, hist)
    assert np.allclose(model.predict_proba(texts, hist), total / total.sum(1, keepdims=True))
    assert not np.allclose(model.predict_proba(texts, hist), model.predict_proba(texts, [[]]))
    out = analyzer.analyze("Are you kidding me?", context=hist[0])
    assert out.details["context_used"] is True


def test_a_head_only_folder_and_a_malformed_ensemble_file(tmp_path):
    folder = default_text_model_dir()
    for name in (META_FILE, WEIGHTS_FILE):
        shutil.copy(folder / name, tmp_path / name)
    alone = TextEnsemble.load(tmp_path)
    assert alone.loras == [] and alone.head_weight == 1.0 and not alone.uses_context
    p = alone.predict_proba(["I am so happy!"])
    assert p.shape == (1, 7) and p.sum() == pytest.approx(1.0)
    (tmp_path / ENSEMBLE_FILE).write_text(json.dumps({"format": "emoreason-text-ensemble",
                                                       "members": [{"kind": "magic", "weight": 1}]}))
    with pytest.raises(ModelError, match="malformed"):
        TextEnsemble.load(tmp_path)


def test_head_roundtrip_and_malformed_files(tmp_path):
    rng = np.random.default_rng(0)
    n = 384 + 4 + 5  # one MiniLM layer, VADER, surface cues
    layers = [(rng.normal(size=(n, 3)) / 20, np.zeros(3)), (rng.normal(size=(3, 7)), np.zeros(7))]
    head = TextHead(rng.normal(size=n), np.ones(n), layers, False, (6,), 1.5)
    x = rng.normal(size=(4, n))
    for dtype, tol in (("float32", 1e-5), ("float16", 2e-3)):
        head.save(tmp_path, weight_dtype=dtype)
        back = TextHead.load(tmp_path)
        assert np.allclose(back.predict_proba(x), head.predict_proba(x), atol=tol)
        assert np.allclose(back.predict_proba(x).sum(1), 1.0) and back.temperature == 1.5
    meta = json.loads((tmp_path / META_FILE).read_text())
    meta["labels"] = meta["labels"][:6]
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="malformed"):
        TextHead.load(tmp_path)
    (tmp_path / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        TextHead.load(tmp_path)


def test_merged_members_average_the_members_logits():
    from emoreason.training.text.model import merge_members

    rng = np.random.default_rng(1)
    n = 384 + 9
    mean, scale = rng.normal(size=n), np.abs(rng.normal(size=n)) + 0.5
    members = [TextHead(mean, scale, [(rng.normal(size=(n, 6)), rng.normal(size=6)),
                                      (rng.normal(size=(6, 7)), rng.normal(size=7))], False, (6,))
               for _ in range(3)]
    merged = merge_members(members)
    x = rng.normal(size=(5, n))
    assert np.allclose(merged.logits(x), np.mean([m.logits(x) for m in members], axis=0))


def test_analyze_passes_dialogue_context_to_the_text_model():
    alone = analyze(text="Are you kidding me?", modalities=["text"])
    with_ctx = analyze(text="Are you kidding me?", modalities=["text"],
                       context=["I sold your car.", "I needed the money."])
    assert with_ctx.modalities["text"].details["context_used"] is True
    assert alone.modalities["text"].details["context_used"] is False
    assert with_ctx.scores != alone.scores
