"""``emoreason analyze`` in a batch keeps the good inputs when one fails; every output path (analyze -o,
--report, --plot, eval -o, build-dataset -o) is checked before any work, with one line and exit 2."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from emoreason.cli import analyze as analyze_cmd
from emoreason.cli.main import main

FACE = ["--modalities", "face", "--no-progress"]


@pytest.fixture
def images(tmp_path, astronaut) -> list[str]:
    good = tmp_path / "face.png"
    Image.fromarray(astronaut).save(good)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    return [str(good), str(bad), str(tmp_path / "missing.png"), str(good)]


@pytest.fixture
def no_analysis(monkeypatch):
    """Fail the test if an analysis starts: the output must be refused before any work."""
    def boom(*args, **kwargs):
        raise AssertionError("the analysis ran before the output path was checked")
    monkeypatch.setattr(analyze_cmd, "analyze", boom)
    monkeypatch.setattr(analyze_cmd, "analyze_clips", boom)


def test_data_loss_one_bad_input_in_a_batch_is_recorded_and_the_others_kept(tmp_path, images, capfd):
    out = tmp_path / "r.json"
    code = main(["analyze", *images, *FACE, "-o", str(out)])
    err = capfd.readouterr().err
    assert code == 1 and "Traceback" not in err
    failed_lines = [ln for ln in err.splitlines() if ln.startswith("emoreason: error:")]
    assert len(failed_lines) == 2 and "broken.png" in failed_lines[0] and "missing.png" in failed_lines[1]
    doc = json.loads(out.read_text())
    assert [d.get("input") for d in doc] == images
    assert doc[0]["label"] and doc[3]["label"] == doc[0]["label"]
    assert doc[1]["error"]["type"] == "UnsupportedFormatError" and "broken.png" in doc[1]["error"]["message"]
    assert doc[2] == {"input": images[2], "error": {"type": "InputNotFoundError",
                                                    "message": doc[2]["error"]["message"]}}
    assert "label" not in doc[1] and set(doc[1]) == {"input", "error"}


def test_data_loss_batch_errors_in_jsonl_and_csv(tmp_path, images, capfd):
    assert main(["analyze", *images, *FACE, "-o", str(tmp_path / "r.jsonl")]) == 1
    lines = [json.loads(ln) for ln in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [("error" in d) for d in lines] == [False, True, True, False]
    assert main(["analyze", *images, *FACE, "-o", str(tmp_path / "r.csv")]) == 1
    table = pd.read_csv(tmp_path / "r.csv")
    assert list(table.columns[:4]) == ["file", "start", "end", "label"]
    assert list(table.columns[-2:]) == ["error_type", "error_message"]
    errors = table[table["error_type"].notna()]
    assert list(errors["file"]) == images[1:3] and errors["label"].isna().all()
    assert list(errors["error_type"]) == ["UnsupportedFormatError", "InputNotFoundError"]


def test_data_loss_batch_without_output_prints_the_good_and_exits_1(images, capfd):
    assert main(["analyze", *images[:2], *FACE]) == 1
    captured = capfd.readouterr()
    assert "face.png" in captured.out and "broken.png" in captured.err
    assert "1 of 2 inputs failed" in captured.err and "Traceback" not in captured.err


def _one_line_exit_2(capfd, argv, needle):
    code = main(argv)
    err = capfd.readouterr().err
    assert code == 2, err
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("option", ["-o", "--report", "--plot"])
def test_output_path_a_folder_refused_before_work(tmp_path, images, capfd, no_analysis, option):
    _one_line_exit_2(capfd, ["analyze", images[0], *FACE, option, str(tmp_path)], "is a folder")


@pytest.mark.parametrize("option,name", [("-o", "r.json"), ("--report", "r.html"), ("--plot", "t.png")])
def test_output_path_missing_parent_refused_before_work(tmp_path, images, capfd, no_analysis, option, name):
    target = tmp_path / "no" / "such" / name
    _one_line_exit_2(capfd, ["analyze", images[0], *FACE, option, str(target)], "does not exist")
    assert not (tmp_path / "no").exists()


def test_output_path_unwritable_refused_before_work(tmp_path, images, capfd, no_analysis):
    # /proc takes no new files, even from root (chmod alone would not stop root)
    _one_line_exit_2(capfd, ["analyze", images[0], *FACE, "-o", "/proc/emoreason-r.json"], "cannot write")
    ro = tmp_path / "file"
    ro.write_text("x")
    _one_line_exit_2(capfd, ["analyze", images[0], *FACE, "-o", str(ro / "r.json")], "not a folder")


def test_output_path_checked_for_text_only_too(tmp_path, capfd, no_analysis):
    _one_line_exit_2(capfd, ["analyze", "--text", "hello", "-o", str(tmp_path)], "is a folder")


@pytest.fixture
def manifest(tmp_path) -> Path:
    m = tmp_path / "m.csv"
    m.write_text("path,label,transcript\n,happy,what a lovely day\n,sad,I miss her\n", encoding="utf-8")
    return m


def _eval(manifest: Path, out: Path) -> list[str]:
    return ["eval", "--dataset", "csv", "--root", str(manifest), "--no-pipeline", "--baseline", "happy",
            "--bootstrap", "0", "--no-plots", "--no-progress", "--reasoning", "off", "-o", str(out)]


def test_output_path_eval_refuses_a_file_and_a_foreign_folder(tmp_path, manifest, capfd, monkeypatch):
    ev = importlib.import_module("emoreason.eval.evaluate")  # the package exports a function of that name
    monkeypatch.setattr(ev, "get_adapter", lambda *a: pytest.fail("the corpus was read first"))
    a_file = tmp_path / "report.txt"
    a_file.write_text("mine")
    _one_line_exit_2(capfd, _eval(manifest, a_file), "is a file")
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"jpg")
    _one_line_exit_2(capfd, _eval(manifest, foreign), "not an earlier eval run")
    assert sorted(p.name for p in foreign.iterdir()) == ["holiday.jpg"]
    _one_line_exit_2(capfd, _eval(manifest, Path("/proc/emoreason-eval")), "cannot write")


def test_output_path_eval_resumes_its_own_folder(tmp_path, manifest, capfd):
    out = tmp_path / "nested" / "report"
    assert main(_eval(manifest, out)) == 0
    assert main(_eval(manifest, out)) == 0  # an earlier run's folder is resumed, not refused
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(_eval(manifest, empty)) == 0


def test_output_path_build_dataset_refuses_a_file_and_a_foreign_folder(tmp_path, capfd, monkeypatch):
    import emoreason.dataset_builder.runner as runner

    monkeypatch.setattr(runner, "load_manifest", lambda *a: pytest.fail("the clips were listed first"))
    videos = tmp_path / "videos"
    videos.mkdir()
    a_file = tmp_path / "out.json"
    a_file.write_text("{}")
    _one_line_exit_2(capfd, ["build-dataset", str(videos), "-o", str(a_file), "--no-progress"], "is a file")
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("x")
    _one_line_exit_2(capfd, ["build-dataset", str(videos), "-o", str(foreign), "--no-progress"],
                     "not an earlier build-dataset run")
    resumable = tmp_path / "build"
    resumable.mkdir()
    (resumable / ".lock").write_text("")  # a build killed in its first moment
    assert runner.check_build_output(resumable) == resumable
