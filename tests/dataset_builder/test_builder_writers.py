"""Schema round-trips: our JSONL, MERR JSON/TXT/CSV (Emotion-LLaMA's names), ShareGPT/LLaVA."""

from __future__ import annotations

import csv
import json

import pytest

from emoreason.dataset_builder.writers import (
    REASON_PROMPTS,
    RECOGNITION_PROMPT,
    read_jsonl,
    read_merr,
    read_sharegpt,
    sharegpt_entries,
    write_jsonl,
    write_merr,
    write_sharegpt,
)
from emoreason.errors import ConfigError

MERR_COMMON = {"AU_list", "visual_prior_list", "audio_prior_list", "peak_index", "peak_AU_list",
               "pseu_emotion"}


def record(cid: str, label: str | None, reasoning: str = "", contradicts: bool = False,
           subtitle: str = "hi") -> dict:
    return {
        "id": cid, "video": f"/v/{cid}.mp4", "image": f"frames/{cid}.jpg", "label": label, "frame_count": 25,
        "subtitle": subtitle, "audio_description": "loud, fast", "coarse_caption": f"caption of {cid}",
        "peak": {"frame_index": 12, "frequent_aus": ["AU05", "AU26"], "active_aus": ["AU26", "AU05"],
                 "phrases": ["jaw dropped", "eyes widened"]},
        "reasoning": reasoning,
        "reasoning_check": {"contradicts": contradicts, "reason": "x"} if reasoning else None,
        "pseudo_label": {"merr_rule": "surprised", "model": label, "model_scores": {}, "agree": True},
        "note": "ünïcode ✓",
    }


RECORDS = [
    record("c1", "surprised", "Wide eyes: surprised."),
    record("c2", "fearful", "Trembling voice: fear."),
    record("c3", "disgusted", "Nose wrinkled: disgust."),  # MERR has no disgust class
    record("c4", "happy", "Frown: angry.", contradicts=True),  # contradicting reasoning
    record("c5", None),  # given label with no canonical counterpart
    record("c6", "neutral", subtitle=""),  # no reasoning
]


def test_jsonl_round_trip_is_exact_and_deterministic(tmp_path):
    assert write_jsonl(RECORDS, tmp_path / "a.jsonl") == len(RECORDS)
    assert read_jsonl(tmp_path / "a.jsonl") == RECORDS
    write_jsonl(list(RECORDS), tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\nnot json\n')
    with pytest.raises(ConfigError, match=":2:"):
        read_jsonl(tmp_path / "bad.jsonl")


def test_merr_files_use_emotion_llama_names_and_filters(tmp_path):
    counts = write_merr(RECORDS, tmp_path)
    coarse = read_merr(tmp_path / "MERR_coarse_grained.json")
    fine = read_merr(tmp_path / "MERR_fine_grained.json")
    assert list(coarse) == ["c1", "c2", "c4", "c6"]  # c3 disgusted, c5 unlabelled: left out
    assert list(fine) == ["c1", "c2"]  # c4 contradicts, c6 has no reasoning
    assert counts == {"coarse": 4, "fine": 2}
    assert set(coarse["c1"]) == MERR_COMMON | {"caption"}
    assert set(fine["c1"]) == MERR_COMMON | {"smp_reason_caption", "reason_caption", "text"}
    assert coarse["c1"]["pseu_emotion"] == "surprise" and coarse["c2"]["pseu_emotion"] == "fear"
    assert coarse["c1"]["peak_index"] == "12" and coarse["c1"]["AU_list"] == ["AU05", "AU26"]
    assert coarse["c1"]["visual_prior_list"] == ["jaw dropped", "eyes widened"]
    assert coarse["c1"]["caption"] == "caption of c1"
    assert fine["c2"]["smp_reason_caption"] == "Trembling voice: fear." and fine["c2"]["text"] == "hi"
    lines = (tmp_path / "MERR_coarse_grained.txt").read_text().splitlines()
    assert lines[0] == "c1 25 surprise" and len(lines) == 4
    # Emotion-LLaMA's reader splits on spaces and takes column 2 as the label
    assert [ln.strip().split(" ")[2] for ln in lines] == ["surprise", "fear", "happy", "neutral"]
    with open(tmp_path / "transcription_en_all.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0] == {"name": "c1", "sentence": "hi"} and len(rows) == 4
    assert read_merr(tmp_path / "MERR_fine_grained.json", ) == json.loads(
        (tmp_path / "MERR_fine_grained.json").read_text())
    write_merr(RECORDS, tmp_path / "keep", keep_contradictions=True)
    assert list(read_merr(tmp_path / "keep" / "MERR_fine_grained.json")) == ["c1", "c2", "c4"]


def test_sharegpt_round_trip_and_seeded_prompts(tmp_path):
    n = write_sharegpt(RECORDS, tmp_path / "s.json", seed=3)
    entries = read_sharegpt(tmp_path / "s.json")
    assert n == len(entries) == 4  # c1, c2, c3 (disgusted is fine here), c6; not c4 (contradicts), c5
    assert [e["id"] for e in entries] == ["c1", "c2", "c3", "c6"]
    first = entries[0]
    assert first["video"] == "/v/c1.mp4"
    conv = first["conversations"]
    assert [t["from"] for t in conv] == ["human", "gpt", "human", "gpt"]
    assert conv[0]["value"] == f"<video>\nThe person in the video says: hi {RECOGNITION_PROMPT}"
    assert conv[1]["value"] == "surprised" and conv[2]["value"] in REASON_PROMPTS
    assert conv[3]["value"] == "Wide eyes: surprised."
    assert len(entries[3]["conversations"]) == 2  # no reasoning: recognition only
    # the prompt drawn for a clip does not depend on the other clips or their order
    alone = sharegpt_entries([RECORDS[0]], seed=3)[0]
    assert alone["conversations"][2] == conv[2]
    images = sharegpt_entries(RECORDS, seed=3, media="image")
    assert images[0]["image"] == "frames/c1.jpg"
    assert images[0]["conversations"][0]["value"].startswith("<image>\n")
    (tmp_path / "bad.json").write_text('[{"id": 1}]')
    with pytest.raises(ConfigError):
        read_sharegpt(tmp_path / "bad.json")
