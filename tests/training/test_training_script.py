"""The end of a training script's main (emoreason.training.script): JSON summary or one error line."""

from __future__ import annotations

import json

from emoreason.errors import InputNotFoundError
from emoreason.training.script import print_summary


def test_the_summary_is_printed_as_json(capsys):
    assert print_summary(lambda: {"items": 3, "corpora": ["meld"]}, indent=1) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == {"items": 3, "corpora": ["meld"]} and '\n "items": 3' in out


def test_a_users_mistake_is_one_line_and_its_exit_code(capsys):
    def run():
        raise InputNotFoundError("no such folder: nowhere")

    assert print_summary(run) == InputNotFoundError.exit_code != 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "emoreason: error: no such folder: nowhere\n"
