"""The builder's files read by the multimodal-LLM's data reader (emoreason.emollm.dataset): slow
(imports transformers)."""

from __future__ import annotations

import pytest
from fake_perception import FAKE_PERCEIVER

from emoreason.dataset_builder.builder import BuildOptions
from emoreason.dataset_builder.runner import build_dataset


@pytest.mark.slow
def test_llm_reader_reads_builder_jsonl_and_merr(clip_dir, tmp_path):
    data = pytest.importorskip("emoreason.emollm.dataset")
    build_dataset(clip_dir, tmp_path, BuildOptions(perceiver=FAKE_PERCEIVER), progress=False)
    from_jsonl, _ = data.read_jsonl(tmp_path / "dataset.jsonl", stage="fine")
    assert {e.clip_id for e in from_jsonl if e.task == "emotion"} == {"happy_a", "happy_e", "mismatch_c",
                                                                      "neutral_d", "surprise_b"}
    reasons = {e.clip_id: e for e in from_jsonl if e.task == "reason"}
    assert reasons["happy_a"].answer.startswith("At 0.6 s the face moved.")
    assert reasons["happy_a"].label == "happy"
    fine, _ = data.read_merr(tmp_path / "merr" / "MERR_fine_grained.json", stage="fine")
    assert {e.clip_id for e in fine if e.task == "reason"} == {"happy_a", "happy_e", "neutral_d",
                                                               "surprise_b"}
    labels = data.read_label_list(tmp_path / "merr" / "MERR_coarse_grained.txt")
    assert labels["surprise_b"] == "surprise"
    subs = data.read_subtitles(tmp_path / "merr" / "transcription_en_all.csv")
    assert subs["happy_a"] == "words of happy_a"
