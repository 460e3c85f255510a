"""Results written to a file: one JSON document, JSON lines, or the timelines as a CSV table.

pandas (for the CSV table) is imported inside :func:`write_results`: it is slow to import and only the
CSV format needs it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from emoreason.io.atomic import atomic_write
from emoreason.result import Result

RESULT_FORMATS = ("json", "jsonl", "csv")


def write_results(results: Sequence[Result], path: str | Path, fmt: str = "json") -> None:
    """Write ``results`` atomically: ``json`` (one object, or a list for several), ``jsonl`` (one line
    each) or ``csv`` (the timelines, one row per segment, indexed by file, start and end)."""
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

        frame = pd.concat([r.to_dataframe() for r in results])
        with atomic_write(path) as f:
            frame.to_csv(f)
