"""The builder on emoreason's real perception: a synthetic clip (astronaut photo + espeak-ng speech)."""

from __future__ import annotations

import json
import shutil

import pytest

from emoreason.dataset_builder.builder import BuildOptions
from emoreason.dataset_builder.runner import build_dataset
from emoreason.dataset_builder.writers import read_jsonl, read_merr


@pytest.mark.slow
def test_default_perception_end_to_end_and_deterministic(speech_clip, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(speech_clip, videos / "astronaut.mp4")
    (videos / "broken.mp4").write_bytes(b"\x00" * 4096)
    summary = build_dataset(videos, tmp_path / "a", BuildOptions(), workers=1, progress=False)
    assert summary.done == 1 and summary.failed == 1
    (rec,) = read_jsonl(tmp_path / "a" / "dataset.jsonl")
    assert rec["modalities"]["face"]["used"] is True and rec["peak"]["source"] == "merr_rule"
    assert (tmp_path / "a" / rec["image"]).stat().st_size > 1000
    assert rec["modalities"]["voice"]["used"] is True
    assert rec["audio_description"] and rec["audio_description"] != "silent (no speech detected)"
    assert rec["subtitle_source"].startswith("asr") and len(rec["subtitle"].split()) >= 5
    assert rec["coarse_caption"].startswith("This person in the video is on camera, face visible in ")
    assert rec["label"] in ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
    assert rec["reasoning"] and rec["reasoning_check"] is not None
    assert read_merr(tmp_path / "a" / "merr" / "MERR_coarse_grained.json") or rec["label"] == "disgusted"
    timings = json.loads((tmp_path / "a" / "timings.json").read_text())["stages"]
    assert {"perception", "perception.face", "peak_frame"} <= set(timings)
    build_dataset(videos, tmp_path / "b", BuildOptions(), workers=2, progress=False)
    assert (tmp_path / "a" / "dataset.jsonl").read_bytes() == (tmp_path / "b" / "dataset.jsonl").read_bytes()
