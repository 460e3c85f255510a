"""A stand-in for :func:`emoreason.api.analyze` in batch tests: the input file's text picks what happens.

``fail`` raises an UnsupportedFormatError; ``crash`` kills its worker process (only with
``FAKE_ANALYZER_ALLOW_CRASH=1``); ``setup`` raises a ModelError (a setup error: the run stops); anything
else is a result whose label is that text. ``FAKE_ANALYZER_DELAY`` (seconds) slows each input down.
Imported by name (``fake_analyzer:analyze``) in worker processes: the tests put this folder on
``PYTHONPATH``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from emoreason.errors import ModelError, UnsupportedFormatError

FAKE_ANALYZER = "fake_analyzer:analyze"


class FakeResult:
    def __init__(self, path: str, label: str, options: dict):
        self.path, self.label, self.options = path, label, options

    def to_dict(self) -> dict:
        return {"input": Path(self.path).name, "label": self.label, "pid": os.getpid(),
                "modalities": self.options.get("modalities")}


def analyze(path: str, **options) -> FakeResult:
    delay = float(os.environ.get("FAKE_ANALYZER_DELAY", "0") or 0)
    if delay:
        time.sleep(delay)
    text = Path(path).read_text().strip()
    if text == "fail":
        raise UnsupportedFormatError(f"{path}: cannot be decoded")
    if text == "setup":
        raise ModelError("the face model file is missing")
    if text == "crash" and os.environ.get("FAKE_ANALYZER_ALLOW_CRASH") == "1":
        os._exit(3)
    return FakeResult(path, text, options)
