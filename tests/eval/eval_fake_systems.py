"""Picklable fake systems for the harness tests (imported by plain name so spawned workers find them)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from emoreason.eval.datasets.base import EvalItem


@dataclass(frozen=True)
class LookupSystem:
    """Answers from a table (default: the item's own label); ids in ``fail_ids`` raise; every call is
    appended to ``call_log`` (one id per line) so tests can see which items were run, even in workers."""

    answers: dict[str, str] = field(default_factory=dict)
    fail_ids: frozenset[str] = frozenset()
    call_log: str | None = None
    fail_while_exists: str | None = None  # fail_ids fail only while this file exists (a fixable fault)
    explanation: str = "She smiles and her voice is bright; she is happy."

    def __call__(self, item: EvalItem) -> dict:
        if self.call_log:
            with open(self.call_log, "a", encoding="utf-8") as f:
                f.write(f"{item.id}\t{os.getpid()}\n")
        fault_present = self.fail_while_exists is None or os.path.exists(self.fail_while_exists)
        if item.id in self.fail_ids and fault_present:
            raise RuntimeError(f"synthetic failure on {item.id}")
        label = self.answers.get(item.id, item.label)
        return {
            "label": label,
            "scores": {label: 1.0},
            "valence": 0.5,
            "arousal": 0.2,
            "explanation": self.explanation,
        }


def calls(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()]


def pids(path: Path) -> set[str]:
    return {line.split("\t")[1] for line in path.read_text(encoding="utf-8").splitlines()}


@dataclass(frozen=True)
class CrashingSystem:
    """Kills its worker process on ``crash_id`` (as a native-code crash would)."""

    crash_id: str

    def __call__(self, item: EvalItem) -> dict:
        if item.id == self.crash_id and os.getpid() != int(os.environ.get("EVAL_TEST_PARENT_PID", "0")):
            os._exit(3)
        return {"label": item.label}
