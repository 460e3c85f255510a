"""Pieces of the face-model training script that do not need the shared data."""

from __future__ import annotations

import numpy as np

from emoreason.training.face import index_uar, label_names, main, recall_by_class
from emoreason.training.face_features import person_of


def test_person_groups_from_file_names():
    assert person_of("images/Al_Gore_0002.jpg") == "Al_Gore"
    assert person_of("Avinash_17.jpg") == "Avinash"
    assert person_of("facial-expressions_2868582k.jpg") == "facial-expressions_2868582k"


def test_uar_is_unweighted_over_classes():
    y = np.array([0, 0, 0, 0, 1])
    assert index_uar(y, np.zeros(5, int)) == 0.5
    assert index_uar(y, y) == 1.0


def test_uar_and_recall_leave_out_classes_absent_from_the_reference():
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 2, 1, 1])  # class 2 is predicted but never true: it costs class 0, adds no class
    assert index_uar(y, pred) == 0.75
    assert recall_by_class(y, pred) == {"neutral": 0.5, "happy": 1.0}
    assert label_names(np.array([0, 6])) == ["neutral", "surprised"]


def test_missing_data_is_one_line_error(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "labels.csv not found" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
