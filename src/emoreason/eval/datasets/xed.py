"""XED (movie subtitles, Plutchik emotions, ~40 languages): the release folder or one XED-format TSV.

Layout (github.com/Helsinki-NLP/XED, as in ``../shared/data/xed``): ``AnnotatedData/{en,fi}-annotated.tsv``
and ``Projections/<lang>-projections.tsv`` (``text<TAB>codes``, codes ``1..8`` = anger, anticipation,
disgust, fear, joy, sadness, surprise, trust), ``AnnotatedData/neu_{en,fi}.txt`` (neutral lines). ``root``
may also be a single TSV in that format (a user's own test set): every line is scored and ``--split``
only picks languages (``all:de``); its language is the file name's prefix (``de-test.tsv`` -> de).

Text only, single-label: a line is scored when it has exactly one canonical label after anticipation and
trust (no canonical twin) are dropped; multi-label lines and lines left with no label are excluded and
counted. XED has no official split: ``heldout-train``, ``heldout-dev`` (default), ``heldout-test`` are the
grouped hash splits of :mod:`emoreason.eval.datasets.text_corpora`; ``all`` is every line. Add
``:LANG,...`` to keep some languages (``heldout-test:de,fr``).
"""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets.base import LoadedDataset
from emoreason.eval.datasets.text_corpora import XED_FILE_LANGUAGE, CorpusRows, read_xed, read_xed_file
from emoreason.eval.datasets.text_items import parse_split, rows_to_dataset
from emoreason.labels import XED

SPLITS = ("heldout-train", "heldout-dev", "heldout-test", "all")


class XedAdapter:
    name = "xed"
    label_map = XED
    modalities: tuple[str, ...] = ("text",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = Path(root).expanduser()
        if not root.exists():
            raise InputNotFoundError(f"xed root: {root} does not exist")
        name, languages = parse_split(split, SPLITS, "all" if root.is_file() else "heldout-dev", "xed")
        if root.is_file():
            if name != "all":
                raise ConfigError(f"xed: {root.name} is one file: every line is scored; --split takes only "
                                  "all or all:LANG")
            data = CorpusRows("xed")
            code = root.name.split("-")[0].split("_")[0].split(".")[0].lower()
            read_xed_file(root, data, XED_FILE_LANGUAGE.get(code, code), "annotated")
            keep = None
        else:
            data = read_xed(root, languages)
            keep = None if name == "all" else name.removeprefix("heldout-")
        return rows_to_dataset(self, root, name, data, keep, languages)
