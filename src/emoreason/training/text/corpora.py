"""Training rows from the multilingual text corpora (XED, EmoEvent, CPED, MELD), by split and language.

The readers, label maps and grouped splits live in :mod:`emoreason.eval.datasets.text_corpora` (the eval
adapters read through them too, so a model trained on ``split == "train"`` here is scored on rows it never
saw by ``emoreason eval --dataset xed --split heldout-test``). This module gathers them for training:
``load_rows`` reads the chosen corpora from the shared data folder, ``select`` filters by split, language
and the single-label reading.

``python -m emoreason.training.text.corpora --data ../shared/data`` prints the rows per corpus, language
and split, and what was excluded.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from emoreason.errors import ConfigError, EmoreasonError
from emoreason.eval.datasets.text_corpora import READERS, CorpusRows, TextRow

CORPORA: tuple[str, ...] = tuple(READERS)


def load_rows(data: Path, corpora: Iterable[str] = CORPORA) -> dict[str, CorpusRows]:
    """Each corpus' rows from ``data/<corpus>`` (a missing folder raises InputNotFoundError)."""
    corpora = list(corpora)
    unknown = [c for c in corpora if c not in READERS]
    if unknown:
        raise ConfigError(f"unknown text corpus {', '.join(unknown)}; choose from {', '.join(CORPORA)}")
    return {name: READERS[name](Path(data) / name) for name in corpora}


def select(rows: Iterable[TextRow], split: str | None = None, languages: Iterable[str] | None = None,
           single: bool = False) -> list[TextRow]:
    """Rows of ``split`` (train/dev/test) in ``languages``; ``single``: only rows with one canonical label."""
    langs = set(languages) if languages is not None else None
    return [r for r in rows
            if (split is None or r.split == split) and (langs is None or r.language in langs)
            and (not single or r.single is not None)]


def summary(loaded: dict[str, CorpusRows]) -> str:
    """A plain-text table: rows (single-label rows) per corpus, language and split, then the exclusions."""
    lines = [f"{'corpus':9} {'lang':5} {'train':>13} {'dev':>13} {'test':>13}"]
    for name, data in loaded.items():
        n = Counter((r.language, r.split) for r in data.rows)
        n1 = Counter((r.language, r.split) for r in data.rows if r.single is not None)
        for lang in sorted({r.language for r in data.rows}):
            cells = [f"{n[(lang, s)]:>6} ({n1[(lang, s)]:>5})" for s in ("train", "dev", "test")]
            lines.append(f"{name:9} {lang:5} " + " ".join(cells))
        for reason, k in data.excluded.most_common():
            lines.append(f"{name:9} excluded {k:>6}: {reason}")
        lines += [f"{name:9} note: {note}" for note in data.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the shared data folder (xed/, emoevent/ ...)")
    p.add_argument("--corpora", default=",".join(CORPORA), help=f"comma-separated subset of {CORPORA}")
    args = p.parse_args(argv)
    try:
        loaded = load_rows(args.data, [c.strip() for c in args.corpora.split(",") if c.strip()])
    except EmoreasonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(loaded))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
