"""Instruction data readers (MERR JSON, MER-Factory JSON, builder JSONL) and recipe validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emoreason.emollm.dataset import read_examples, read_jsonl, read_merr, to_answer_word
from emoreason.emollm.instructions import REASON_INFER_SUFFIX
from emoreason.emollm.recipe import load_recipe, recipe_from_dict
from emoreason.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO.parent / "shared" / "data" / "merr_format_examples"


def test_merr_coarse_and_fine(tmp_path):
    merr = {"sample_00000007": {"AU_list": ["AU05"], "pseu_emotion": "worried", "caption": "Eyes widened.",
                                "smp_reason_caption": "His eyes widen and he speaks fast.",
                                "text": "Who is it?"},
            "sample_00000008": {"pseu_emotion": "contempt", "caption": "A sneer."},
            "sample_00000009": {"pseu_emotion": "happy"}}
    path = tmp_path / "merr.json"
    path.write_text(json.dumps(merr))
    fine, rep = read_merr(path, "fine")
    by = {(e.clip_id, e.task): e for e in fine}
    assert by[("sample_00000007", "emotion")].answer == "worried"
    assert by[("sample_00000007", "reason")].answer == \
        "His eyes widen and he speaks fast." + REASON_INFER_SUFFIX + "worried"
    assert by[("sample_00000007", "reason")].subtitle == "Who is it?"
    assert ("sample_00000009", "reason") not in by and rep.skipped["no fine text"] == 2
    coarse, _ = read_merr(path, "coarse")
    assert {e.answer.split(REASON_INFER_SUFFIX)[0] for e in coarse if e.task == "reason"} == {"Eyes widened.",
                                                                                              "A sneer."}
    labels = tmp_path / "labels.txt"
    labels.write_text("sample_00000009 40 sad -10\n")
    relabelled, _ = read_examples([path], "fine", labels_file=labels)
    assert {e.answer for e in relabelled if e.clip_id == "sample_00000009"} == {"sad"}


def test_canonical_answer_vocabulary_skips_and_counts(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"id": "a", "label": "fearful", "transcript": "hi", "reasoning": "r"},
            {"id": "b", "label": "disgusted"}, {"video": "v/c.mp4", "label": "joy"}, {"label": "sad"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    ex, rep = read_jsonl(path, "fine")
    assert [(e.clip_id, e.task, e.label) for e in ex] == [("a", "emotion", "fear"), ("a", "reason", "fear"),
                                                         ("c", "emotion", "happy")]
    assert rep.skipped["line is not JSON"] == 1 and rep.skipped["record has no id"] == 1
    assert rep.skipped["label 'disgusted' not in the answer vocabulary"] == 1
    assert to_answer_word("fearful", ("neutral", "fearful")) == "fearful"


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="shared MERR format examples not present")
def test_mer_factory_example_files():
    for f in sorted(EXAMPLES.glob("*.json")):
        ex, rep = read_merr(f, "fine")
        assert len(ex) == 1 and ex[0].task == "reason" and ex[0].clip_id == "xxx" and ex[0].label is None
        assert ex[0].subtitle  # first line of the audio analysis


def test_recipes_shipped_are_valid_and_typos_rejected():
    for path in sorted((REPO / "configs" / "emollm").glob("*.yaml")):
        recipe = load_recipe(path)
        assert recipe.stage in ("coarse", "fine")
    with pytest.raises(ConfigError, match="unknown key"):
        recipe_from_dict({"name": "x", "stage": "fine", "data": "d", "feature_cache": "c", "output_dir": "o",
                          "optim": {"learning_rate": 1}})
    with pytest.raises(ConfigError, match="stage"):
        recipe_from_dict({"name": "x", "stage": "final", "data": "d", "feature_cache": "c",
                          "output_dir": "o"})


def test_builder_jsonl_reader_skips_reasoning_that_contradicts_its_label(tmp_path):
    recs = [{"id": "a", "label": "happy", "subtitle": "hi", "reasoning": "She smiles.", "reasoning_check":
             {"contradicts": False}},
            {"id": "b", "label": "happy", "subtitle": "hi", "reasoning": "She is furious.", "reasoning_check":
             {"contradicts": True, "reason": "names angry"}}]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    examples, report = read_jsonl(path, stage="fine")
    assert {(e.clip_id, e.task) for e in examples} == {("a", "emotion"), ("a", "reason"), ("b", "emotion")}
    assert report.skipped == {"reasoning that contradicts the label (its [reason] example)": 1}
