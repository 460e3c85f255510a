"""The synthetic people videos: ground truth consistent with what is drawn, a real file written."""

from __future__ import annotations

import numpy as np
import pytest

from emoreason.errors import ConfigError
from emoreason.io.media import probe
from emoreason.io.synth_people import make_people_video, mouth_amount


def test_truth_of_side_by_side_and_alternating():
    side = make_people_video(seconds=4.0, fps=5)
    assert side.truth.turns == [(0.25, 1.75, 0), (2.25, 3.75, 1)]
    assert side.frame(0).shape == (320, 640, 3) and side.truth.cuts == []
    assert not np.isnan(side.truth.boxes).any()
    assert side.truth.boxes[0, 0, 2] < 0.5 < side.truth.boxes[1, 0, 0]  # left and right tiles
    speaking = side.truth.speaking(1)
    assert speaking.sum() == 7 and not side.truth.mouth[1][~speaking].any()
    alt = make_people_video(seconds=4.0, fps=5, layout="alternating")
    assert alt.frame(0).shape == (320, 320, 3) and alt.truth.cuts == [2.4]
    assert np.isnan(alt.truth.boxes[1, :12]).all() and not np.isnan(alt.truth.boxes[1, 12:]).any()


def test_mouth_cycles_only_inside_turns():
    turns = [(1.0, 2.0, 0)]
    assert mouth_amount(0.5, 0, turns) == 0.0 and mouth_amount(1.125, 0, turns) == pytest.approx(1.0)
    assert mouth_amount(1.125, 1, turns) == 0.0


def test_drawn_mouth_changes_only_the_lower_face():
    video = make_people_video(seconds=1.0, fps=8)
    closed, opened = video.faces[0].rgb, video.faces[0].with_mouth(1.0)
    changed = np.abs(opened.astype(int) - closed.astype(int)).sum(axis=2) > 30
    ys = np.nonzero(changed)[0]
    assert changed.any() and ys.min() > video.faces[0].lip_up[1] - 5


def test_written_file_and_bad_options(tmp_path):
    video = make_people_video(tmp_path / "two.mp4", seconds=1.0, fps=5)
    info = probe(tmp_path / "two.mp4")
    assert info.has_video and video.n == 5
    with pytest.raises(ConfigError):
        make_people_video(seconds=1.0, layout="grid")
    with pytest.raises(ConfigError):
        make_people_video(seconds=1.0, turns=[(0.0, 1.0, 2)])
