"""The shared batch runner's pieces: the JSON-lines log cut back to whole lines, and argument checks."""

from __future__ import annotations

import json

import pytest

from emoreason.errors import ConfigError
from emoreason.io.batch_runner import JsonlLog, run_items


@pytest.mark.parametrize("torn", [b'{"input": "c", "x": "', b'{"input": "c", "x": "' + b"y" * 200_000])
def test_a_torn_last_line_is_cut_off_however_long(tmp_path, torn):
    log = JsonlLog(tmp_path / "r.jsonl")
    log.append({"input": "a"})
    log.append({"input": "b", "text": "é\n"})  # a newline inside a string is escaped: still one line
    whole = log.path.read_bytes()
    log.path.write_bytes(whole + torn)
    assert [r["input"] for r in log.read()] == ["a", "b"]
    assert log.path.read_bytes() == whole  # cut back to the last whole line, on disk
    log.append({"input": "c"})
    assert [r["input"] for r in log.read()] == ["a", "b", "c"]


def test_a_file_that_is_only_a_torn_line_becomes_empty_and_a_missing_one_reads_empty(tmp_path):
    log = JsonlLog(tmp_path / "r.jsonl")
    assert list(log.read()) == []
    log.path.write_bytes(b'{"input": "a"')
    assert list(log.read()) == [] and log.path.read_bytes() == b""


def test_a_file_that_is_not_ours_is_refused(tmp_path):
    log = JsonlLog(tmp_path / "r.jsonl")
    log.path.write_text(json.dumps([1, 2]) + "\n")
    with pytest.raises(ConfigError, match="r.jsonl:1 is not a JSON object"):
        list(log.read())


def test_run_items_in_process_and_its_argument_checks():
    seen = []
    run_items([1, 2, 3], pow, lambda item, out: seen.append((item, out)), args=(2,))
    assert seen == [(1, 1), (2, 4), (3, 9)]
    with pytest.raises(ConfigError, match="unknown backend 'dask'"):
        run_items([1], pow, print, args=(2,), backend="dask")
    with pytest.raises(ConfigError, match="at least 1"):
        run_items([1], pow, print, args=(2,), workers=0)
