"""The builder's ``people`` option: per-person records in the clip's record, one MERR and ShareGPT entry
per person; without it, the build and its stored options are as before."""

from __future__ import annotations

import json

from fake_people_perception import FAKE_PEOPLE_PERCEIVER

from emoreason.dataset_builder.builder import BuildOptions
from emoreason.dataset_builder.runner import build_dataset
from emoreason.dataset_builder.writers import read_jsonl, read_merr, read_sharegpt


def test_people_records_and_exports(clip_dir, tmp_path):
    options = BuildOptions(perceiver=FAKE_PEOPLE_PERCEIVER, people=True)
    build_dataset(clip_dir, tmp_path / "o", options, workers=1, progress=False)
    records = read_jsonl(tmp_path / "o" / "dataset.jsonl")
    rec = next(r for r in records if r["id"] == "happy_a")
    p1, p2 = rec["people"]
    assert (p1["id"], p1["person_id"], p1["face_track"], p1["voice"]) == ("happy_a_P1", "P1", 0, 0)
    assert p1["label"] == "happy" and p1["subtitle"] == "first words" and p1["peak"]["source"] == "merr_rule"
    assert p1["reasoning"] and p1["turns"] == [[0.1, 0.5]]
    assert p2["label"] == "sad" and p2["visual_expression"] == "no face seen" and p2["face_track"] is None
    assert p2["audio_description"] != "silent (no speech detected)" and p2["reasoning_check"] is not None
    assert (tmp_path / "o" / p1["image"]).stat().st_size > 100 and p1["image"] != rec["image"]
    coarse = read_merr(tmp_path / "o" / "merr" / "MERR_coarse_grained.json")
    assert {"happy_a_P1", "happy_a_P2"} <= set(coarse) and "happy_a" not in coarse
    assert coarse["happy_a_P2"]["pseu_emotion"] == "sad"
    ids = {e["id"] for e in read_sharegpt(tmp_path / "o" / "sharegpt_video.json")}
    assert {"happy_a_P1", "happy_a_P2"} <= ids and "happy_a" not in ids
    assert json.loads((tmp_path / "o" / "build_config.json").read_text())["people"] is True


def test_without_people_the_stored_options_are_as_before(clip_dir, tmp_path):
    build_dataset(clip_dir, tmp_path / "o", BuildOptions(perceiver=FAKE_PEOPLE_PERCEIVER), workers=1,
                  progress=False)
    assert "people" not in json.loads((tmp_path / "o" / "build_config.json").read_text())
    records = read_jsonl(tmp_path / "o" / "dataset.jsonl")
    assert all("people" not in r for r in records)
    assert "happy_a" in read_merr(tmp_path / "o" / "merr" / "MERR_coarse_grained.json")
