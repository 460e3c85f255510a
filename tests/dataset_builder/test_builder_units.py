"""Manifest loading, audio description, coarse caption, MERR peak frame and pseudo-labels."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from emoreason.dataset_builder.captions import (
    audio_description,
    coarse_caption,
    prosody_summary,
    visual_description,
)
from emoreason.dataset_builder.manifest import ClipSpec, load_manifest, safe_id
from emoreason.dataset_builder.pseudo_labels import find_peak, pseudo_label
from emoreason.errors import ConfigError, InputNotFoundError


def test_directory_manifest_is_sorted_recursive_and_disambiguates_names(tmp_path):
    (tmp_path / "b").mkdir()
    for rel in ("z.mp4", "a.avi", "b/z.mp4", "notes.txt", ".hidden.mp4"):
        (tmp_path / rel).write_bytes(b"x")
    specs = load_manifest(tmp_path)
    assert [s.clip_id for s in specs] == ["a", "b__z", "z"]
    assert all(s.label is None and s.subtitle is None for s in specs)


def test_csv_manifest_resolves_relative_paths_and_keeps_labels(tmp_path):
    (tmp_path / "m.csv").write_text("path,label,subtitle,id\nv/one.mp4,happy,hello there,\n"
                                    "/abs/two.mp4,,,clip 2\n", encoding="utf-8")
    one, two = load_manifest(tmp_path / "m.csv")
    assert one == ClipSpec("one", str((tmp_path / "v/one.mp4").resolve()), "happy", "hello there")
    assert two == ClipSpec("clip_2", "/abs/two.mp4", None, None)


@pytest.mark.parametrize("text, error", [("name,label\nx.mp4,happy\n", "needs a 'path' column"),
                                         ("path,id\na.mp4,k\nb.mp4,k\n", "used by both")])
def test_bad_csv_manifest_is_a_clear_error(tmp_path, text, error):
    (tmp_path / "m.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=error):
        load_manifest(tmp_path / "m.csv")


def test_missing_or_empty_sources(tmp_path):
    with pytest.raises(InputNotFoundError):
        load_manifest(tmp_path / "nope")
    with pytest.raises(InputNotFoundError, match="no video files"):
        load_manifest(tmp_path)
    with pytest.raises(ConfigError):
        safe_id("///")


def _prosody(**cols) -> pd.DataFrame:
    base = {"start": 0.0, "end": 2.0, "energy_mean_db": -25.0, "rate_syl_s": 4.5, "f0_slope_st_s": -1.0,
            "f0_range_st": 5.0, "pauses": 0}
    base.update(cols)
    return pd.DataFrame([base])


@pytest.mark.parametrize("cols, voice, expected", [
    ({"energy_mean_db": -10.0, "rate_syl_s": 6.5, "f0_slope_st_s": 3.0}, None, "loud, fast, rising pitch"),
    ({"energy_mean_db": -40.0, "rate_syl_s": 2.0, "f0_slope_st_s": -6.0, "f0_range_st": 1.0}, None,
     "soft, slow, falling pitch, flat, monotone pitch"),
    ({}, None, "steady, even tone"),
    ({"pauses": 3}, {"angry": 0.8, "neutral": 0.2}, "hesitant, with pauses, sounding angry"),
    ({}, {"angry": 0.4, "neutral": 0.35, "sad": 0.25}, "steady, even tone"),
])
def test_audio_description_rules(cols, voice, expected):
    assert audio_description(prosody_summary(_prosody(**cols)), voice) == expected


def test_prosody_summary_weights_by_duration_and_skips_nan():
    table = pd.DataFrame([{"start": 0.0, "end": 1.0, "rate_syl_s": 2.0, "f0_slope_st_s": float("nan")},
                          {"start": 1.0, "end": 4.0, "rate_syl_s": 6.0, "f0_slope_st_s": 1.0}])
    s = prosody_summary(table)
    assert math.isclose(s["rate_syl_s"], 5.0) and math.isclose(s["f0_slope_st_s"], 1.0)
    assert s["speech_seconds"] == 4.0
    assert audio_description(prosody_summary(None)) == "silent (no speech detected)"


def test_coarse_caption_is_merr_template():
    cap = coarse_caption("on camera.", "Eyes widened, mouth wide open", "loud, fast", "What?")
    assert cap == ("This person in the video is on camera. The person's expression and actions include Eyes "
                   "widened, mouth wide open, and the person's tone is loud, fast. Saying: What?")
    assert coarse_caption("x", "y", "z", " ").endswith("Saying: (nothing audible)")


def test_visual_description_states_only_what_was_measured():
    assert visual_description({"frames": 10, "frames_with_face": 8}) == \
        "on camera, face visible in 80% of the sampled frames"
    assert visual_description(None) == "not visible (no face found)"
    assert visual_description({"frames": 10}, scene="A man in a white coat.") == "A man in a white coat"


def _table(rows: list[dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=pd.Index([0.0, 0.2, 0.4, 0.6][: len(rows)], name="time"))


def test_peak_frame_follows_merr_rule_and_labels_agree_or_not():
    # AU12 is the strongest AU of all, but active in one frame only: MERR's rule ignores it.
    table = _table([{"AU5": 1.6, "AU26": 1.6, "AU1": 1.6, "AU12": 0.0},
                    {"AU5": 2.0, "AU26": 2.5, "AU1": 1.6, "AU12": 0.0},
                    {"AU5": 1.6, "AU26": 1.7, "AU1": 1.6, "AU12": 4.0},
                    {"AU5": 0.1, "AU26": 0.1, "AU1": 0.1, "AU12": 0.0}])
    peak = find_peak(table)
    assert peak.row == 1 and peak.time == 0.2
    assert sorted(peak.frequent_aus) == ["AU01", "AU05", "AU26"]
    assert peak.active == ["AU26", "AU05", "AU01"]
    assert peak.expression == "Eyes widened, mouth wide open, inner brows raised"
    assert pseudo_label(peak, "surprised").agree is True
    assert pseudo_label(peak, "happy").agree is False
    assert pseudo_label(peak, "happy").merr_rule == "surprised"


def test_no_rule_no_agreement_and_empty_tables():
    table = _table([{"AU4": 0.3}, {"AU4": 0.2}])
    peak = find_peak(table)
    assert peak.active == [] and peak.expression == ""
    pl = pseudo_label(peak, "neutral", {"neutral": 0.9})
    assert pl.merr_rule is None and pl.agree is None and pl.to_dict()["model_scores"] == {"neutral": 0.9}
    assert find_peak(None) is None and find_peak(pd.DataFrame()) is None


@pytest.mark.parametrize("kw, error", [
    ({"reasoning": "llm"}, "needs an endpoint"), ({"reasoning": "magic"}, "offline' or 'llm'"),
    ({"vlm_url": "http://127.0.0.1:1/v1"}, "both --vlm-url and --vlm-model"), ({"fps": 0}, "fps"),
    ({"modalities": "face,smell"}, "modalities"), ({"label_set": "klingon"}, "unknown label set"),
    ({"jpeg_quality": 0}, "JPEG quality"),
])
def test_bad_build_options_are_clear_errors(kw, error):
    from emoreason.dataset_builder.builder import BuildOptions

    with pytest.raises(ConfigError, match=error):
        BuildOptions(**kw)
