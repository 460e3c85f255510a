"""The package's source as it was at a git ref, for benchmarks that run "before" beside "after".

    with code_at("bf9b36c") as src:      # a temporary folder holding that commit's src/
        ... PYTHONPATH=src ...
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def code_at(ref: str) -> Iterator[Path]:
    """``src/`` at git ref ``ref`` (models included), exported with ``git archive`` into a temporary folder
    that is removed on exit; yields the path to put on PYTHONPATH."""
    with tempfile.TemporaryDirectory(prefix="emoreason-before-") as tmp:
        archive = subprocess.run(["git", "archive", ref, "src"], cwd=REPO, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield Path(tmp) / "src"
