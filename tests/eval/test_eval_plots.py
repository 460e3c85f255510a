"""The evaluation figures: row normalisation, the confusion figure (one or more panels), the per-class
chart."""

from __future__ import annotations

import numpy as np
import pytest

from emoreason.eval import metrics as M
from emoreason.eval.plots import row_normalise, save_confusion_figure, save_per_class_figure


def test_row_normalise_keeps_empty_rows_at_zero():
    norm = row_normalise(np.array([[3, 1], [0, 0]]))
    np.testing.assert_array_equal(norm, [[0.75, 0.25], [0.0, 0.0]])


def test_figures_are_written_as_png_files(tmp_path):
    t = ["happy", "sad", "sad", "angry", "happy"]
    p = ["happy", "sad", "happy", "angry", "sad"]
    labels = M.class_order(t, p)
    cm = M.confusion_matrix(t, p, labels)
    one = save_confusion_figure([(cm, labels, "a")], tmp_path / "one.png")
    two = save_confusion_figure([(cm, labels, "a"), (cm[:2, :2], labels[:2], "b")], tmp_path / "two.png",
                                suptitle="two systems")
    bars = save_per_class_figure(M.per_class(t, p, labels).as_dict(), tmp_path / "bars.png", "per class")
    for path in (one, two, bars):
        assert path.read_bytes()[:4] == b"\x89PNG"
    assert sorted(q.name for q in tmp_path.iterdir()) == ["bars.png", "one.png", "two.png"]  # no temp files
    with pytest.raises(ValueError, match="no confusion matrix"):
        save_confusion_figure([], tmp_path / "none.png")
