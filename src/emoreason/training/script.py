"""The end of a training script's ``main``: its summary printed as JSON, or a user's mistake as one line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from emoreason.errors import EmoreasonError


def print_summary(run: Callable[[], Any], indent: int = 2) -> int:
    """``run()`` (the script's work, returning a JSON-able summary), its summary printed to stdout as JSON
    with ``indent``: exit status 0. A user's mistake (:class:`~emoreason.errors.EmoreasonError`) is printed
    instead as one line on stderr, as the ``emoreason`` command prints it, and its exit code returned."""
    try:
        summary = run()
    except EmoreasonError as exc:
        print(f"emoreason: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(summary, indent=indent))
    return 0
