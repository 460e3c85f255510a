"""IEMOCAP: the per-dialogue label files ``Session{1..5}/dialog/EmoEvaluation/*.txt``.

Official layout (IEMOCAP_full_release, as read by most public loaders): each label file has lines
``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]`` (start - end, turn,
category, [valence, activation, dominance] on 1..5); audio in
``Session{n}/sentences/wav/{dialogue}/{turn}.wav``; transcripts in
``Session{n}/dialog/transcriptions/{dialogue}.txt`` as ``{turn} [start-end]: words``.

``split``: ``4class`` (default; the usual protocol: neu, hap + exc merged into happy, sad, ang) or
``6class`` (neu, hap, exc, sad, ang, fru — in the canonical taxonomy exc also becomes happy and fru has
no label, so it is excluded and counted; the score is therefore over four canonical classes);
append ``-session5`` (or any 1..5) to keep one session, e.g. ``4class-session5``. Every other category
(xxx, oth, fea, sur, dis outside the chosen set) is excluded and counted under its own name.
Valence and activation are rescaled from 1..5 to -1..1 as (x - 3) / 2.
"""

from __future__ import annotations

import re
from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.eval.datasets.base import ItemCollector, LoadedDataset, require_dir
from emoreason.labels import IEMOCAP

LINE = re.compile(
    r"^\[(\d+\.?\d*) - (\d+\.?\d*)\]\s+(\S+)\s+(\w+)\s+\[(\d+\.?\d*), (\d+\.?\d*), (\d+\.?\d*)\]"
)
TRANSCRIPT = re.compile(r"^(\S+) \[[^\]]*\]:\s*(.*)$")
CLASS_SETS = {
    "4class": {"neu", "hap", "exc", "sad", "ang"},
    "6class": {"neu", "hap", "exc", "sad", "ang", "fru"},
}


def parse_split(split: str | None) -> tuple[str, int | None]:
    text = (split or "4class").strip().lower()
    m = re.fullmatch(r"(4class|6class)(?:-session([1-5]))?", text)
    if not m:
        raise ConfigError(
            f"iemocap: split must be 4class or 6class, optionally with -sessionN; got {split!r}"
        )
    return m.group(1), int(m.group(2)) if m.group(2) else None


class IemocapAdapter:
    name = "iemocap"
    label_map = IEMOCAP
    modalities: tuple[str, ...] = ("voice", "text")
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "iemocap root")
        classes, session = parse_split(split)
        sessions = [session] if session else [1, 2, 3, 4, 5]
        label_files = sorted(
            f for s in sessions for f in (root / f"Session{s}" / "dialog" / "EmoEvaluation").glob("*.txt")
        )
        if not label_files:
            raise ConfigError(f"iemocap: no Session*/dialog/EmoEvaluation/*.txt under {root}")
        col = ItemCollector(self, root, split or "4class")
        for lf in label_files:
            session_dir = lf.parents[2]
            words = _transcripts(session_dir / "dialog" / "transcriptions" / lf.name)
            for line in lf.read_text(encoding="utf-8", errors="replace").splitlines():
                m = LINE.match(line.strip())
                if not m:
                    continue
                start, end, turn, cat, val, act, _dom = m.groups()
                if cat not in CLASS_SETS[classes]:
                    col.exclude(f"outside the {classes} protocol: {cat}")
                    continue
                wav = session_dir / "sentences" / "wav" / lf.stem / f"{turn}.wav"
                col.add(
                    turn,
                    cat,
                    path=wav,
                    text=words.get(turn),
                    speaker=turn[:5] + turn.split("_")[-1][0],
                    valence=(float(val) - 3) / 2,
                    arousal=(float(act) - 3) / 2,
                    meta={"start": float(start), "end": float(end), "dialogue": lf.stem},
                )
        return col.done()


def _transcripts(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = TRANSCRIPT.match(line.strip())
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out
