"""``emoreason analyze`` on an archive: folder and manifest resolution, the failures file, resuming,
options checked on resume, and the batch-mode argument checks; once with the real analyzer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from emoreason.batch import analyze_batch, find_inputs
from emoreason.cli.main import main
from emoreason.errors import ConfigError, InputNotFoundError, ModelError

HERE = Path(__file__).resolve().parent
FAKE = "fake_analyzer:analyze"


@pytest.fixture(autouse=True)
def _fake_importable(monkeypatch) -> None:
    """``fake_analyzer`` by name, here and in worker processes (they read PYTHONPATH)."""
    monkeypatch.syspath_prepend(str(HERE))
    paths = (str(HERE), os.environ.get("PYTHONPATH"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


def inputs(folder: Path, texts: dict[str, str]) -> list[str]:
    """Tiny "media" files whose text tells the fake analyzer what to do."""
    for name, text in texts.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return [str(folder / n) for n in texts]


def lines(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text().splitlines()]


def test_folder_is_walked_recursively_sorted_media_only(tmp_path):
    inputs(tmp_path, {"b.wav": "x", "a/z.mp4": "x", "a/c.PNG": "x", "notes.txt": "x", ".hidden/d.wav": "x",
                      ".e.wav": "x"})
    assert find_inputs(tmp_path) == [str(tmp_path / p) for p in ("a/c.PNG", "a/z.mp4", "b.wav")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputNotFoundError, match="no media files"):
        find_inputs(tmp_path / "empty")


def test_manifest_paths_are_read_from_the_manifest_folder(tmp_path, monkeypatch):
    (tmp_path / "lists").mkdir()
    manifest = tmp_path / "lists" / "m.csv"
    manifest.write_text(f"label,Path\nhappy,../clips/a.wav\nsad,b.mp4\n,{tmp_path}/abs.png\n",
                        encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the manifest's folder: relative paths must not be read from here
    assert find_inputs("lists/m.csv") == [str(tmp_path / "clips" / "a.wav"),
                                          str(tmp_path / "lists" / "b.mp4"), str(tmp_path / "abs.png")]
    (tmp_path / "bad.csv").write_text("file\na.wav\n")
    with pytest.raises(ConfigError, match="needs a 'path' column .found: file"):
        find_inputs(tmp_path / "bad.csv")
    (tmp_path / "hole.csv").write_text("path\na.wav\n\"\"\n")
    with pytest.raises(ConfigError, match="hole.csv:3: empty 'path'"):
        find_inputs(tmp_path / "hole.csv")
    with pytest.raises(InputNotFoundError):
        find_inputs(tmp_path / "nope.csv")


def test_failures_file_and_retry_failed(tmp_path):
    paths = inputs(tmp_path / "in", {"a.wav": "happy", "b.wav": "fail", "c.wav": "sad"})
    out = tmp_path / "r.jsonl"
    s = analyze_batch(paths, out, analyzer=FAKE, progress=False, modalities="voice")
    assert (s.inputs, s.analysed, s.failed, s.this_run) == (3, 2, 1, 3)
    assert [(r["input"], r["label"], r["modalities"]) for r in lines(out)] == [
        (paths[0], "happy", "voice"), (paths[2], "sad", "voice")]  # the input path, not the analyzer's
    assert lines(tmp_path / "r.failures.jsonl") == [{"input": paths[1], "error": {
        "type": "UnsupportedFormatError", "message": f"{paths[1]}: cannot be decoded"}}]
    again = analyze_batch(paths, out, analyzer=FAKE, progress=False, modalities="voice")
    assert (again.this_run, again.skipped, again.failed) == (0, 3, 1)  # a failure is not retried...
    Path(paths[1]).write_text("angry")
    fixed = analyze_batch(paths, out, analyzer=FAKE, progress=False, modalities="voice", retry_failed=True)
    assert (fixed.this_run, fixed.analysed, fixed.failed) == (1, 3, 0)  # ...unless asked
    assert [r["label"] for r in lines(out)] == ["happy", "sad", "angry"]
    assert (tmp_path / "r.failures.jsonl").read_text() == ""
    with pytest.raises(ConfigError, match="modalities was 'voice', now 'face'"):
        analyze_batch(paths, out, analyzer=FAKE, progress=False, modalities="face")


def test_a_torn_last_line_is_cut_off_and_its_input_redone(tmp_path):
    paths = inputs(tmp_path / "in", {"a.wav": "happy", "b.wav": "sad"})
    out = tmp_path / "r.jsonl"
    analyze_batch(paths[:1], out, analyzer=FAKE, progress=False)
    with open(out, "a") as f:
        f.write(json.dumps({"input": paths[1], "label": "sad"})[:25])  # what kill -9 mid-write leaves
    s = analyze_batch(paths, out, analyzer=FAKE, progress=False)
    assert (s.this_run, s.skipped, s.analysed) == (1, 1, 2)
    assert [r["input"] for r in lines(out)] == paths
    out.write_text('{"input": "x"}\nnot json\n{"input": "y"}\n')
    with pytest.raises(ConfigError, match="r.jsonl:2 is not a JSON object"):
        analyze_batch(paths, out, analyzer=FAKE, progress=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_setup_error_stops_the_run(tmp_path, workers):
    paths = inputs(tmp_path / "in", {"a.wav": "setup", "b.wav": "setup", "c.wav": "setup"})
    with pytest.raises(ModelError, match="face model file is missing"):
        analyze_batch(paths, tmp_path / "r.jsonl", analyzer=FAKE, progress=False, workers=workers)
    assert not (tmp_path / "r.failures.jsonl").exists()


def test_a_crashing_input_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_ANALYZER_ALLOW_CRASH", "1")
    paths = inputs(tmp_path / "in", {"a.wav": "happy", "b.wav": "crash", "c.wav": "sad", "d.wav": "calm"})
    s = analyze_batch(paths, tmp_path / "r.jsonl", analyzer=FAKE, progress=False, workers=2)
    assert (s.analysed, s.failed) == (3, 1)
    (failure,) = lines(tmp_path / "r.failures.jsonl")
    assert failure["input"] == paths[1] and failure["error"]["type"] == "WorkerDied"
    assert sorted(r["label"] for r in lines(tmp_path / "r.jsonl")) == ["calm", "happy", "sad"]
    assert os.getpid() not in {r["pid"] for r in lines(tmp_path / "r.jsonl")}  # worker processes ran them


@pytest.mark.parametrize(("argv", "needle"), [
    (["--workers", "2"], "give -o RESULTS.jsonl"),
    (["-o", "{tmp}/r.json"], "give -o RESULTS.jsonl"),
    (["-o", "{tmp}/r.jsonl", "--text", "hi"], "does not take --text"),
    (["-o", "{tmp}/r.jsonl", "--report", "{tmp}/r.html"], "does not take --report"),
    (["-o", "{tmp}/r.jsonl", "--workers", "0"], "--workers must be at least 1"),
    (["-o", "{tmp}/r.jsonl", "--address", "ray://h:10001"], "--address is for --backend ray"),
])
def test_batch_mode_arguments_are_checked_before_any_work(tmp_path, capfd, argv, needle):
    folder = tmp_path / "in"
    inputs(folder, {"a.wav": "happy"})
    code = main(["analyze", str(folder), *[a.format(tmp=tmp_path) for a in argv]])
    err = capfd.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "r.jsonl").exists()


def test_the_cli_on_a_folder_with_the_real_analyzer(tmp_path, astronaut, capfd):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(astronaut).save(folder / "face.png")
    Image.fromarray(astronaut).save(folder / "sub" / "face2.jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    out = tmp_path / "results.jsonl"
    argv = ["analyze", str(folder), "-o", str(out), "--modalities", "face", "--workers", "1"]
    assert main(argv) == 1
    err = capfd.readouterr().err
    assert "2/3 inputs analysed" in err and "1 failed" in err and "Traceback" not in err
    results = lines(out)
    assert [r["input"] for r in results] == [str(folder / "face.png"), str(folder / "sub" / "face2.jpg")]
    assert results[0]["label"] and results[0]["modalities"]["face"]["used"] is True
    (failure,) = lines(tmp_path / "results.failures.jsonl")
    assert failure["input"] == str(folder / "broken.png")
    assert failure["error"]["type"] == "UnsupportedFormatError"
    assert main(argv) == 1  # a rerun has nothing left to do
    assert "0 this run, 3 already done" in capfd.readouterr().err and len(lines(out)) == 2
