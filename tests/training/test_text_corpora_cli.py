"""``python -m emoreason.training.text.corpora``: the counts table, and a missing corpus as one line."""

from __future__ import annotations

import sys
from pathlib import Path

from emoreason.training.text.corpora import load_rows, main, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
from text_corpora_trees import make_cped, make_emoevent  # noqa: E402


def test_corpora_summary_cli(tmp_path, capsys):
    make_cped(tmp_path / "cped")
    assert main(["--data", str(tmp_path), "--corpora", "cped"]) == 0
    out = capsys.readouterr().out
    assert "cped      zh" in out and "no canonical label: relaxed" in out
    assert main(["--data", str(tmp_path), "--corpora", "xed"]) == 2
    assert "xed" in capsys.readouterr().err
    assert main(["--data", str(tmp_path), "--corpora", "affectnet"]) == 2


def test_select_by_split_language_and_single(tmp_path):
    make_emoevent(tmp_path / "emoevent")
    rows = load_rows(tmp_path, ["emoevent"])["emoevent"].rows
    train_es = select(rows, "train", ["es"], single=True)
    assert train_es and all(r.split == "train" and r.language == "es" for r in train_es)
    assert len(select(rows)) == len(rows) == 36
