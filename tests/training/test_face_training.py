"""Pieces of the face-head training script that do not need the shared data."""

from __future__ import annotations

import numpy as np

from emoreason.training.face import main, person_of, uar


def test_person_groups_from_file_names():
    assert person_of("images/Al_Gore_0002.jpg") == "Al_Gore"
    assert person_of("Avinash_17.jpg") == "Avinash"
    assert person_of("facial-expressions_2868582k.jpg") == "facial-expressions_2868582k"


def test_uar_is_unweighted_over_classes():
    y = np.array([0, 0, 0, 0, 1])
    assert uar(y, np.zeros(5, int), np.array([0, 1])) == 0.5
    assert uar(y, y, np.array([0, 1])) == 1.0


def test_missing_data_is_one_line_error(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "labels.csv not found" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
