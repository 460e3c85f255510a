"""The timeline picture: a PNG with one row per track, coloured by label."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from emoreason.errors import ConfigError
from emoreason.report.palette import LABEL_COLOURS
from emoreason.report.timeline_data import build_timeline, nice_ticks
from emoreason.report.timeline_plot import plot_timeline


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def _share(img: np.ndarray, colour: str) -> float:
    return float((np.abs(img[:, :, :3].astype(int) - _rgb(colour)).sum(axis=2) < 12).mean())


def test_plot_png_shows_the_labels_it_should(clip_result, text_result, tmp_path):
    out = plot_timeline(clip_result, tmp_path / "sub" / "timeline.png")
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[1] == 1200 and img.shape[0] > 500
    for lab in ("happy", "surprised", "sad", "neutral"):  # present in the segments
        assert _share(img, LABEL_COLOURS[lab]) > 0.01, lab
    for lab in ("angry", "fearful", "disgusted"):  # scored 0 everywhere: not drawn, not in the legend
        assert _share(img, LABEL_COLOURS[lab]) == 0.0, lab
    # the text-only result draws one whole-input bar per track, mostly angry
    img2 = np.asarray(Image.open(plot_timeline(text_result, tmp_path / "t.png")).convert("RGB"))
    assert _share(img2, LABEL_COLOURS["angry"]) > _share(img2, LABEL_COLOURS["neutral"]) > 0


def test_plot_rejects_other_formats(clip_result, tmp_path):
    with pytest.raises(ConfigError):
        plot_timeline(clip_result, tmp_path / "timeline.jpg")


def test_timeline_tracks(clip_result, text_result):
    t = build_timeline(clip_result)
    assert [tr.name for tr in t.tracks] == ["fused", "face", "voice", "text"]
    assert (t.start, t.end, t.timed) == (0.0, 6.0, True)
    assert [len(tr.blocks) for tr in t.tracks] == [3, 3, 3, 2]
    assert t.labels == ["neutral", "happy", "sad", "surprised"]
    t2 = build_timeline(text_result)
    assert not t2.timed and [tr.name for tr in t2.tracks] == ["fused", "text"]
    assert nice_ticks(0, 6) == [0, 1, 2, 3, 4, 5, 6]
    assert nice_ticks(0.0, 95.0)[:3] == [0, 20, 40]
