"""The xed, emoevent and cped adapters on tiny trees in the real layouts, and once on the shared files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from emoreason.cli.main import main
from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets import DATASET_NAMES, get_adapter

sys.path.insert(0, str(Path(__file__).parent))
from text_corpora_trees import make_cped, make_emoevent, make_xed  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_registered():
    assert {"xed", "emoevent", "cped"} <= set(DATASET_NAMES)


def test_xed_all_single_label_items_and_counts(tmp_path):
    root = make_xed(tmp_path / "xed")
    data = get_adapter("xed").load(root, "all")
    labels = {it.text: it.label for it in data.items}
    assert labels["We will win tomorrow ."] == "happy"
    assert "!" not in labels  # three canonical labels
    assert data.excluded["multi-label (3 canonical labels)"] == 1
    assert data.excluded["no canonical label: trust"] == 1
    assert all(it.meta["language"] in {"en", "fi", "de", "tr", "pt"} for it in data.items)
    de = get_adapter("xed").load(root, "all:de")
    assert {it.meta["language"] for it in de.items} == {"de"}
    held = [get_adapter("xed").load(root, s) for s in ("heldout-train", "heldout-dev", "heldout-test")
            if _loads(root, s)]
    assert sum(len(d.items) for d in held) == len(data.items)


def _loads(root, split):
    try:
        get_adapter("xed").load(root, split)
    except ConfigError:  # a split the tiny tree leaves empty
        return False
    return True


def test_xed_single_file_is_a_users_test_set(tmp_path):
    path = tmp_path / "de-test.tsv"
    path.write_text("Er will sterben!\t4\nWas ist mit dir passiert?\t4, 7\nSo nicht.\t3\n", encoding="utf-8")
    data = get_adapter("xed").load(path)
    assert [(it.label, it.meta["language"]) for it in data.items] == [("fearful", "de"), ("disgusted", "de")]
    assert data.split == "all" and data.excluded == {"multi-label (2 canonical labels)": 1}
    with pytest.raises(ConfigError, match="one file"):
        get_adapter("xed").load(path, "heldout-test")


def test_emoevent_official_and_heldout(tmp_path):
    root = make_emoevent(tmp_path / "emoevent")
    dev = get_adapter("emoevent").load(root)
    assert len(dev.items) == 8 and dev.split == "dev"
    assert {it.meta["language"] for it in get_adapter("emoevent").load(root, "dev:es").items} == {"es"}
    test = get_adapter("emoevent").load(root, "heldout-test")
    assert len({it.meta["group"] for it in test.items}) == 1  # one whole event
    with pytest.raises(InputNotFoundError, match="test.tsv"):
        get_adapter("emoevent").load(root, "test")
    (root / "en" / "test.tsv").write_text((root / "en" / "dev.tsv").read_text(encoding="utf-8"),
                                          encoding="utf-8")
    assert len(get_adapter("emoevent").load(root, "test").items) == 4


def test_cped_splits(tmp_path):
    root = make_cped(tmp_path / "cped")
    valid = get_adapter("cped").load(root, "valid")
    assert [it.label for it in valid.items] == ["surprised", "neutral", "sad", "fearful"]
    assert valid.excluded == {"no canonical label: relaxed": 1}
    with pytest.raises(InputNotFoundError, match="test_split.csv"):
        get_adapter("cped").load(root, "test")
    with pytest.raises(ConfigError, match="unknown split"):
        get_adapter("cped").load(root, "dev")


def test_cli_eval_scores_a_baseline_on_xed(tmp_path, capsys):
    root = make_xed(tmp_path / "xed")
    out = tmp_path / "report"
    rc = main(["eval", "--dataset", "xed", "--root", str(root), "--split", "all", "--no-pipeline",
               "--baseline", "angry", "--limit", "5", "--bootstrap", "0", "--no-plots", "-o", str(out)])
    assert rc == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["dataset"]["n_items"] == 5 and report["dataset"]["label_map"] == "xed"
    assert report["dataset"]["excluded"]["multi-label (3 canonical labels)"] == 1
    assert "always-angry" in capsys.readouterr().out


def test_cli_wrong_split_is_one_line_and_exit_2(tmp_path, capsys):
    rc = main(["eval", "--dataset", "emoevent", "--root", str(make_emoevent(tmp_path / "e")), "--split",
               "fold3", "--no-pipeline", "--baseline", "happy", "-o", str(tmp_path / "r")])
    assert rc == 2
    assert "unknown split" in capsys.readouterr().err


def test_shared_files_when_present():
    if not (SHARED / "cped" / "valid_split.csv").is_file():
        pytest.skip("shared data folder not present")
    cped = get_adapter("cped").load(SHARED / "cped", "valid")
    assert len(cped.items) + cped.n_excluded == 11137
    ev = get_adapter("emoevent").load(SHARED / "emoevent", "dev")
    assert len(ev.items) == 1588 and ev.n_excluded == 0
    xed = get_adapter("xed").load(SHARED / "xed", "heldout-test:fi")
    assert len(xed.items) > 1000 and {it.meta["language"] for it in xed.items} == {"fi"}
