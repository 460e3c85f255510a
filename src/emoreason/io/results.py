"""Results written to a file: one JSON document, JSON lines, or the timelines as a CSV table.

An input that could not be analysed in a batch is written in its place as an :class:`InputFailure`::

    {"input": "b.mp4", "error": {"type": "UnsupportedFormatError", "message": "b.mp4: cannot be decoded"}}

(one JSON object, or one JSON line; in the CSV, one row with the file, empty times and scores, and the
``error_type`` and ``error_message`` columns, which appear only when some input failed).

CSV cells are made safe to open in a spreadsheet: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a line break would be read as a formula there (CSV formula injection), so it gets a leading
``'`` (OWASP's advice, :func:`spreadsheet_safe`); numbers, and text that is a plain number such as
``-0.3``, are written as they are. Carriage returns inside text are written as newlines (quoted).

pandas (for the CSV table) is imported inside :func:`write_results`: it is slow to import and only the
CSV format needs it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emoreason.io.atomic import atomic_write
from emoreason.result import Result

RESULT_FORMATS = ("json", "jsonl", "csv")
#: The ``person`` cell of the whole clip's rows in a CSV of results with people.
CLIP_PERSON = "all"
#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class InputFailure:
    """One input of a batch that could not be analysed: which, and why (the error's class and message)."""

    input: str
    type: str
    message: str

    @classmethod
    def from_exception(cls, source: Any, exc: BaseException) -> InputFailure:
        return cls(str(source), type(exc).__name__, str(exc) or type(exc).__name__)

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "error": {"type": self.type, "message": self.message}}

    def line(self) -> str:
        """One line for stderr: the message, with the input's name in front unless it already says it."""
        message = " ".join(self.message.split())
        return message if self.input in message else f"{self.input}: {message}"


def _formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text)


def spreadsheet_safe(value: Any) -> Any:
    """``value``, with a ``'`` in front when it is text a spreadsheet would read as a formula (or such
    text already behind quotes, so :func:`from_spreadsheet_safe` gives back exactly the original)."""
    if isinstance(value, str) and _formula_like(value.lstrip("'")):
        return "'" + value
    return value


def from_spreadsheet_safe(text: str) -> str:
    """The original of a cell written by :func:`spreadsheet_safe` (other text comes back unchanged)."""
    return text[1:] if text.startswith("'") and _formula_like(text.lstrip("'")) else text


def _csv_cell(value: Any) -> Any:
    """A text cell made spreadsheet-safe, its carriage returns made newlines: pandas quotes a cell holding
    a newline but not one holding a lone CR, which CSV readers then take for the end of the row."""
    value = spreadsheet_safe(value)
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def write_results(results: Sequence[Result | InputFailure], path: str | Path, fmt: str = "json") -> None:
    """Write ``results`` atomically: ``json`` (one object, or a list for several), ``jsonl`` (one line
    each) or ``csv`` (the timelines, one row per segment, indexed by file, start and end). An
    :class:`InputFailure` takes its input's place (see the module docstring).

    Results with people (``analyze(..., people=True)``): in JSON and JSONL each person is an entry of the
    result's ``people`` list (its ``person_id`` says who); the CSV gains a ``person`` column after ``file``
    -- :data:`CLIP_PERSON` on the whole clip's rows, then each person's own timeline rows
    (:meth:`~emoreason.result.Result.people_dataframe`: ``P1``, ``P2`` ..., with ``face_track``, ``voice``
    and ``speaking_seconds``)."""
    if fmt == "json":
        payload = results[0].to_dict() if len(results) == 1 else [r.to_dict() for r in results]
        with atomic_write(path) as f:
            json.dump(payload, f, indent=2, ensure_ascii=False)
    elif fmt == "jsonl":
        with atomic_write(path) as f:
            for r in results:
                f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    else:
        import pandas as pd

        with_people = any(isinstance(r, Result) and r.people for r in results)
        frames = []
        for r in results:
            if isinstance(r, InputFailure):
                frames.append(pd.DataFrame([{"file": r.input, "start": float("nan"), "end": float("nan"),
                                             "error_type": r.type, "error_message": r.message}]))
            else:
                frames.append(r.to_dataframe().reset_index())
                if with_people:
                    frames[-1].insert(1, "person", CLIP_PERSON)
                    frames.append(r.people_dataframe().reset_index())
        frame = pd.concat(frames, ignore_index=True)
        for column in ("face_track", "voice"):  # whole numbers, blank where a row has none
            if column in frame.columns:
                frame[column] = frame[column].astype("Int64")
        errors = [c for c in ("error_type", "error_message") if c in frame.columns]
        frame = frame[[c for c in frame.columns if c not in errors] + errors]
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                frame[column] = frame[column].map(_csv_cell)
        with atomic_write(path) as f:
            frame.to_csv(f, index=False)
