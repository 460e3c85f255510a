"""The multilingual text corpora (XED, EmoEvent, CPED, MELD) read into one row type, with grouped splits.

One reader per corpus turns the shared folder's files into :class:`TextRow` s: the text, its canonical
labels (a tuple: XED is multi-label), the corpus' own labels, an ISO 639-1 language code, the group the
held-out split is drawn by, and that split (``train``/``dev``/``test``). The eval adapters (``xed.py``,
``emoevent.py``, ``cped.py``) and ``training.text.corpora`` both read through here.

Labels go through the maps in :mod:`emoreason.labels` (``XED``, ``EMOEVENT``, ``CPED``, ``MELD``); a label
mapping to ``None`` is dropped from the row's set, and a row left with no canonical label is excluded and
counted (``CorpusRows.excluded``), never guessed. ``TextRow.single`` is the single-label reading: the one
canonical label when a row has exactly one (after XED's trust and anticipation are dropped), else None.

Splits (deterministic; ``hash_split``: SHA-256 of ``corpus:group``, buckets 0-79 train, 80-89 dev,
90-99 test):

- XED has no film ids in its annotated files (they are sorted by label, then text), so an annotated or
  ``neu_en`` line's group is its language plus its normalised text (duplicates stay together). A
  projection file's lines follow their films in order, so its group is a block of ``XED_BLOCK``
  consecutive lines, keyed by language and block number: line *i* of ``cn-`` and ``tw-projections``
  (simplified and Taiwan Chinese, both ``zh``; their first 217 lines are one text in two scripts) share a
  group. ``neu_fi.txt`` names each line's film (its fifth column), which is the group.
  Translations of one source line in two languages are not linked (the pair files are not in the shared
  folder), so a line's translation may sit in another split.
- EmoEvent: whole events are held out (``emoevent_event_split``: pooled train+dev files, the events
  ranked by SHA-256 of their name, the first one test, the second dev). ``scheme="official"`` keeps the
  files' own train/dev instead.
- CPED (only the validation file is shared): grouped by dialogue (``Dialogue_ID``), hashed.
- MELD: its own train and dev files (split by dialogue by its authors); no test here.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets.base import read_csv_rows
from emoreason.eval.datasets.meld import clean_text
from emoreason.labels import CPED, EMOEVENT, MELD, XED, LabelMap

#: XED's numeric codes (its README): ascending alphabetical order, 0 neutral.
XED_CODES = {0: "neutral", 1: "anger", 2: "anticipation", 3: "disgust", 4: "fear", 5: "joy", 6: "sadness",
             7: "surprise", 8: "trust"}
#: Projection file prefixes that are not ISO 639-1 codes, and what they hold.
XED_FILE_LANGUAGE = {"br": "pt", "cn": "zh", "tw": "zh"}  # pt-BR; simplified Chinese; Taiwan Chinese
XED_BLOCK = 50
_LABELS_FIELD = re.compile(r"^\s*\d+(\s*,\s*\d+)*\s*$")
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class TextRow:
    """One labelled line: ``labels`` canonical (sorted, non-empty), ``source_labels`` the corpus' own."""

    id: str
    text: str
    labels: tuple[str, ...]
    source_labels: tuple[str, ...]
    language: str
    group: str
    split: str
    corpus: str

    @property
    def single(self) -> str | None:
        """The canonical label when the row has exactly one, else None (the single-label reading)."""
        return self.labels[0] if len(self.labels) == 1 else None


@dataclass
class CorpusRows:
    """A corpus' rows plus what was left out and why."""

    corpus: str
    rows: list[TextRow] = field(default_factory=list)
    excluded: Counter = field(default_factory=Counter)  # reason -> count, all splits
    notes: list[str] = field(default_factory=list)
    #: (split, language, reason) -> count; split "-" for lines that belong to none (malformed)
    dropped: Counter = field(default_factory=Counter)

    def exclude(self, reason: str, split: str = "-", language: str = "-") -> None:
        self.excluded[reason] += 1
        self.dropped[(split, language, reason)] += 1

    def add(self, label_map: LabelMap, *, id: str, text: str, source_labels: tuple[str, ...], language: str,
            group: str, split: str | None = None) -> None:
        """Map ``source_labels`` and keep the row unless it is empty or has no canonical label."""
        text = " ".join(text.split())
        split = split or hash_split(self.corpus, group)
        unknown = [s for s in source_labels if s not in label_map.to_canonical]
        canon = tuple(sorted({c for s in source_labels if (c := label_map.to_canonical.get(s)) is not None}))
        if not text:
            self.exclude("empty text", split, language)
        elif unknown or not source_labels:
            self.exclude(f"unrecognised label: {','.join(unknown) or '(empty)'}", split, language)
        elif not canon:
            self.exclude(f"no canonical label: {'+'.join(sorted(set(source_labels)))}", split, language)
        else:
            self.rows.append(TextRow(id, text, canon, tuple(source_labels), language, group, split,
                                     self.corpus))


def hash_split(corpus: str, group: str) -> str:
    """``train``/``dev``/``test`` from SHA-256 of ``corpus:group`` (buckets 0-79, 80-89, 90-99)."""
    bucket = int(hashlib.sha256(f"{corpus}:{group}".encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 80 else "dev" if bucket < 90 else "test"


def text_key(text: str) -> str:
    """Case-folded text with punctuation and spacing runs as one space: duplicates of one line share it."""
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def parse_xed_labels(field_text: str) -> tuple[str, ...] | None:
    """``"1, 4, 7"`` -> ``("anger", "fear", "surprise")``; None when the field is not XED's code list."""
    if not _LABELS_FIELD.match(field_text):
        return None
    codes = [int(c) for c in field_text.split(",")]
    if any(c not in XED_CODES for c in codes):
        return None
    return tuple(dict.fromkeys(XED_CODES[c] for c in codes))


def iter_xed_lines(path: Path, kind: str) -> Iterator[tuple[int, str, tuple[str, ...] | None, str]]:
    """``(line number from 0, text, Plutchik labels or None, film)`` for every line of an XED file.

    ``kind``: 'annotated' or 'projection' (``text<TAB>codes``; the projection files hold stray lines of
    their pair metadata and quoted multi-line text, so a line that is not exactly text, TAB, a code list
    gets labels None), or 'neutral' (``neu_en.txt``: ``code<TAB>text``; ``neu_fi.txt``:
    ``id<TAB>text<TAB>..<TAB>..<TAB>film``; labels ``("neutral",)``, None for a line without text).
    """
    try:
        with open(path, encoding="utf-8", newline="") as f:
            lines = f.read().split("\n")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"xed: {path} is not UTF-8 text ({exc.reason})") from None
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    for i, line in enumerate(lines):
        parts = line.rstrip("\r").split("\t")
        if kind == "neutral":
            ok = len(parts) >= 2 and bool(parts[1].strip())
            film = parts[4].strip() if len(parts) >= 5 else ""
            yield i, parts[1] if ok else "", ("neutral",) if ok else None, film
        else:
            labels = parse_xed_labels(parts[1]) if len(parts) == 2 else None
            yield i, parts[0].strip().strip('"').strip() if labels else "", labels, ""


def xed_group(path: Path, language: str, kind: str, line: int, text: str, film: str) -> str:
    """The held-out group of one XED line (see the module docstring)."""
    if film:
        return f"film:{film}"
    if kind == "projection":
        return f"{language}:projection:block{line // XED_BLOCK}"
    return f"{language}:text:{text_key(text)}"


def read_xed_file(path: Path, out: CorpusRows, language: str, kind: str) -> None:
    """One XED file's lines into ``out``; a malformed line is skipped and counted."""
    for i, text, labels, film in iter_xed_lines(path, kind):
        if labels is None:
            out.exclude(f"malformed line ({path.name})")
            continue
        out.add(XED, id=f"{path.stem}:{i + 1}", text=text, source_labels=labels, language=language,
                group=xed_group(path, language, kind, i, text, film))


def xed_files(root: Path) -> list[tuple[Path, str, str]]:
    """``(path, language, kind)`` for every XED file under ``root`` (its release layout)."""
    ann, proj = root / "AnnotatedData", root / "Projections"
    if not ann.is_dir() and not proj.is_dir():
        raise InputNotFoundError(f"xed: neither AnnotatedData/ nor Projections/ under {root}")
    found = []
    for p in sorted(ann.glob("*-annotated.tsv")) if ann.is_dir() else []:
        found.append((p, p.name.split("-")[0], "annotated"))
    for p in sorted(ann.glob("neu_*.txt")) if ann.is_dir() else []:
        found.append((p, p.stem.split("_", 1)[1], "neutral"))
    for p in sorted(proj.glob("*-projections*.tsv")) if proj.is_dir() else []:
        code = p.name.split("-")[0]
        found.append((p, XED_FILE_LANGUAGE.get(code, code), "projection"))
    return found


def read_xed(root: Path, languages: set[str] | None = None) -> CorpusRows:
    """Every XED line under ``root`` (annotated, neutral, projections), optionally only some languages."""
    out = CorpusRows("xed")
    files = [f for f in xed_files(Path(root)) if languages is None or f[1] in languages]
    if not files:
        raise InputNotFoundError(f"xed: no files for language(s) {sorted(languages or [])} under {root}")
    for path, lang, kind in files:
        read_xed_file(path, out, lang, kind)
    return out


EMOEVENT_COLUMNS = ("id", "event", "tweet", "emotion")


def read_emoevent_file(path: Path) -> list[dict[str, str]]:
    """The rows of one EmoEvent TSV (``id, event, tweet, offensive, emotion``; tabs, no quoting)."""
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            rows = list(reader)
            columns = reader.fieldnames or []
    except UnicodeDecodeError as exc:
        raise ConfigError(f"emoevent: {path} is not UTF-8 text ({exc.reason})") from None
    missing = [c for c in EMOEVENT_COLUMNS if c not in columns]
    if missing:
        raise ConfigError(
            f"emoevent: {path} lacks column(s) {', '.join(missing)} (has: {', '.join(columns)})"
        )
    return [{k: (v or "").strip() for k, v in r.items() if k} for r in rows]


def emoevent_event_split(events: set[str]) -> dict[str, str]:
    """Held-out events: ranked by SHA-256 of the name, the first is ``test``, the second ``dev``."""
    ranked = sorted(events, key=lambda e: hashlib.sha256(f"emoevent:{e}".encode()).hexdigest())
    return {e: "test" if i == 0 else "dev" if i == 1 else "train" for i, e in enumerate(ranked)}


def emoevent_languages(root: Path) -> list[tuple[Path, str]]:
    """``(folder, language)``: ``root`` itself when it holds the TSVs, else its ``en/``, ``es/`` ..."""
    if any((root / f"{s}.tsv").is_file() for s in ("train", "dev", "test")):
        return [(root, root.name if len(root.name) == 2 else "und")]
    found = [(d, d.name) for d in sorted(root.iterdir()) if d.is_dir() and any(d.glob("*.tsv"))]
    if not found:
        raise InputNotFoundError(f"emoevent: no {{train,dev,test}}.tsv in {root} or its language folders")
    return found


def read_emoevent(root: Path, scheme: str = "event", files: tuple[str, ...] = ("train", "dev")) -> CorpusRows:
    """EmoEvent's ``files`` for every language folder; ``scheme`` 'event' (held-out events) or 'official'
    (each row's split is its file's name)."""
    if scheme not in ("event", "official"):
        raise ConfigError(f"emoevent: unknown split scheme {scheme!r} (event or official)")
    raw = [(lang, name, r) for folder, lang in emoevent_languages(Path(root)) for name in files
           if (folder / f"{name}.tsv").is_file() for r in read_emoevent_file(folder / f"{name}.tsv")]
    if not raw:
        raise InputNotFoundError(f"emoevent: no rows in {', '.join(f + '.tsv' for f in files)} under {root}")
    out = CorpusRows("emoevent")
    split_of = emoevent_event_split({r["event"] for _, _, r in raw}) if scheme == "event" else {}
    for lang, name, r in raw:
        out.add(EMOEVENT, id=f"{lang}:{r['id']}", text=r["tweet"], source_labels=(r["emotion"].lower(),),
                language=lang, group=f"event:{r['event']}", split=split_of.get(r["event"], name))
    if split_of:
        held = sorted((s, e) for e, s in split_of.items() if s != "train")
        out.notes.append("held-out events: " + ", ".join(f"{e} ({s})" for s, e in held))
    return out


CPED_COLUMNS = ("TV_ID", "Dialogue_ID", "Utterance_ID", "Emotion", "Utterance")


def read_cped(root: Path, file: str = "valid_split.csv") -> CorpusRows:
    """CPED's ``file`` (default the shared validation split), grouped by dialogue and hash-split."""
    path = Path(root) / file
    if not path.is_file():
        raise InputNotFoundError(f"cped: {file} not found in {root}")
    out = CorpusRows("cped")
    for r in read_csv_rows(path, CPED_COLUMNS, f"cped: {path}"):
        out.add(CPED, id=r["Utterance_ID"].strip(), text=r["Utterance"],
                source_labels=(r["Emotion"].strip().lower(),), language="zh",
                group=f"dialogue:{r['Dialogue_ID'].strip()}")
    return out


def read_meld(root: Path) -> CorpusRows:
    """MELD's train and dev CSVs (official splits, by dialogue); English."""
    out = CorpusRows("meld")
    for split in ("train", "dev"):
        path = Path(root) / f"{split}_sent_emo.csv"
        if not path.is_file():
            raise InputNotFoundError(f"meld: {path.name} not found in {root}")
        for r in read_csv_rows(path, ("Utterance", "Emotion", "Dialogue_ID", "Utterance_ID"), str(path)):
            d = r["Dialogue_ID"].strip()
            out.add(MELD, id=f"{split}:dia{d}_utt{r['Utterance_ID'].strip()}",
                    text=clean_text(r["Utterance"]), source_labels=(r["Emotion"].strip().lower(),),
                    language="en", group=f"{split}:dialogue:{d}", split=split)
    return out


READERS = {"xed": read_xed, "emoevent": read_emoevent, "cped": read_cped, "meld": read_meld}


def read_corpus(name: str, root: Path) -> CorpusRows:
    """The rows of corpus ``name`` (xed, emoevent, cped, meld) from its folder, default split scheme."""
    if name not in READERS:
        raise ConfigError(f"unknown text corpus {name!r}; choose one of: {', '.join(READERS)}")
    return READERS[name](Path(root))
