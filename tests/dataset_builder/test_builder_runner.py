"""The runner end to end on real (tiny) video files with a scripted perceiver: records, failures, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_perception import CLIP_NAMES, FAKE_PERCEIVER

from emoreason.dataset_builder.builder import BuildOptions
from emoreason.dataset_builder.runner import build_dataset
from emoreason.dataset_builder.writers import read_jsonl, read_merr
from emoreason.errors import ConfigError

OUTPUTS = ("dataset.jsonl", "failed.jsonl", "summary.json", "sharegpt_video.json", "sharegpt_image.json",
           "merr/MERR_coarse_grained.json", "merr/MERR_fine_grained.json", "merr/MERR_coarse_grained.txt",
           "merr/MERR_fine_grained.txt", "merr/transcription_en_all.csv")


def snapshot(out: Path) -> dict[str, bytes]:
    files = {name: (out / name).read_bytes() for name in OUTPUTS}
    files.update({f"frames/{p.name}": p.read_bytes() for p in sorted((out / "frames").glob("*.jpg"))})
    return files


def opts(**kw) -> BuildOptions:
    return BuildOptions(perceiver=FAKE_PERCEIVER, **kw)


@pytest.fixture(scope="module")
def built(clip_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("built")
    summary = build_dataset(clip_dir, out, opts(), workers=1, progress=False)
    return out, summary


def test_records_hold_every_stage(built):
    out, summary = built
    assert summary.clips == 7 and summary.done == 5 and summary.failed == 2
    records = {r["id"]: r for r in read_jsonl(out / "dataset.jsonl")}
    assert list(records) == sorted(CLIP_NAMES)  # manifest (sorted directory) order
    happy = records["happy_a"]
    assert happy["label"] == "happy" and happy["label_source"] == "merr_rule"
    assert happy["pseudo_label"]["merr_rule"] == "happy" and happy["pseudo_label"]["agree"] is True
    assert happy["peak"]["source"] == "merr_rule" and happy["peak"]["time"] == 0.6
    assert happy["peak"]["frame_index"] == 6 and happy["frame_count"] == 10
    assert happy["visual_expression"] == "Cheeks raised in a smile"
    assert happy["audio_description"] == "loud, fast, rising pitch, sounding happy"
    assert happy["subtitle"] == "words of happy_a" and happy["subtitle_source"] == "asr"
    assert happy["coarse_caption"] == (
        "This person in the video is on camera, face visible in 100% of the sampled frames. The "
        "person's expression and actions include Cheeks raised in a smile, and the person's tone is loud, "
        "fast, rising pitch, sounding happy. Saying: words of happy_a")
    assert happy["reasoning"].endswith("feels happy.") and happy["reasoning_check"]["contradicts"] is False
    assert (out / happy["image"]).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert (out / happy["series"]["aus"]).read_text().startswith("time,AU01")
    assert "_timings" not in happy
    mismatch = records["mismatch_c"]
    assert mismatch["pseudo_label"] == {"merr_rule": "happy", "model": "sad", "agree": False,
                                        "model_scores": mismatch["pseudo_label"]["model_scores"]}
    assert mismatch["label"] == "happy" and mismatch["reasoning_check"]["contradicts"] is True
    neutral = records["neutral_d"]
    assert neutral["label"] == "neutral" and neutral["label_source"] == "model"
    assert neutral["visual_expression"] == "a relaxed face with no clearly active action unit"


def test_corrupt_clips_are_logged_with_reason_and_skipped(built):
    out, _ = built
    failed = {r["id"]: r["reason"] for r in read_jsonl(out / "failed.jsonl")}
    assert set(failed) == {"corrupt_x", "empty_y"}
    assert failed["empty_y"].startswith("EmptyInputError") and "0 bytes" in failed["empty_y"]
    assert failed["corrupt_x"].startswith("UnsupportedFormatError")
    log = (out / "build.log").read_text()
    assert "corrupt_x FAILED UnsupportedFormatError" in log and "happy_a ok" in log


def test_exports_and_summary(built):
    out, _ = built
    fine = read_merr(out / "merr" / "MERR_fine_grained.json")
    assert "mismatch_c" not in fine and {"happy_a", "surprise_b", "happy_e", "neutral_d"} <= set(fine)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reasoning_contradicts_label"] == 1 and summary["merr_rule_disagrees_with_model"] == 1
    assert summary["labels"] == {"happy": 3, "neutral": 1, "surprised": 1}
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings["stages"]) >= {"perception", "peak_frame", "descriptions", "reasoning"}


def test_rerun_skips_done_clips_and_rewrites_identical_outputs(built, clip_dir):
    out, _ = built
    before = snapshot(out)
    again = build_dataset(clip_dir, out, opts(), workers=1, progress=False)
    assert again.skipped_as_done == 5 and again.processed_this_run == 2  # only the failed ones retried
    assert snapshot(out) == before


def test_other_options_into_the_same_directory_are_refused(built, clip_dir):
    out, _ = built
    with pytest.raises(ConfigError, match="seed was 0, now 1"):
        build_dataset(clip_dir, out, opts(seed=1), workers=1, progress=False)


def test_given_labels_and_subtitles_win(clip_dir, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label,subtitle\n"
                        f"{clip_dir / 'happy_a.mp4'},worried,I can't find it\n"
                        f"{clip_dir / 'neutral_d.mp4'},contempt,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not in the canonical label set: contempt, worried"):
        build_dataset(manifest, tmp_path / "o1", opts(), progress=False)
    build_dataset(manifest, tmp_path / "o2", opts(label_set="merr"), progress=False)
    a, b = read_jsonl(tmp_path / "o2" / "dataset.jsonl")
    assert a["label"] == "fearful" and a["label_given"] == "worried" and a["label_source"] == "given"
    assert a["subtitle"] == "I can't find it" and a["subtitle_source"] == "given"
    assert a["reasoning_check"]["contradicts"] is True  # our models say happy, the given label is fearful
    assert b["label"] is None and "no canonical label" in b["label_source"] and b["reasoning"] == ""


def test_two_worker_processes_give_the_same_outputs(built, clip_dir, tmp_path):
    out, _ = built
    build_dataset(clip_dir, tmp_path / "par", opts(), workers=2, progress=False)
    assert snapshot(tmp_path / "par") == snapshot(out)


def test_a_clip_that_kills_its_worker_is_isolated_and_recorded(clip_dir, tmp_path, monkeypatch):
    import shutil

    from fake_perception import make_clip

    monkeypatch.setenv("FAKE_PERCEPTION_ALLOW_CRASH", "1")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("happy_a", "surprise_b", "neutral_d"):
        shutil.copy(clip_dir / f"{name}.mp4", src / f"{name}.mp4")
    make_clip(src / "crash_z.mp4")
    summary = build_dataset(src, tmp_path / "out", opts(), workers=2, progress=False)
    assert summary.done == 3 and summary.failed == 1  # the clips in flight beside it were not blamed
    (failed,) = read_jsonl(tmp_path / "out" / "failed.jsonl")
    assert failed["id"] == "crash_z" and failed["reason"].startswith("worker process died")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_setup_error_stops_the_run_instead_of_failing_every_clip(clip_dir, tmp_path, workers):
    options = BuildOptions(perceiver="fake_perception:no_such_function")
    with pytest.raises(ConfigError, match="cannot load perceiver"):
        build_dataset(clip_dir, tmp_path, options, workers=workers, progress=False)
    assert not (tmp_path / "dataset.jsonl").exists() and not list((tmp_path / "failed").glob("*.json"))
