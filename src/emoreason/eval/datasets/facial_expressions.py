"""facial_expressions (muxspace): the shared ``labels.csv`` or the repository's ``data/legend.csv``.

Layouts: (1) ``../shared/data/facial_expressions/labels.csv`` with columns ``path,emotion,annotator_id``
(paths relative to the CSV, images in ``images/``); (2) github.com/muxspace/facial_expressions:
``data/legend.csv`` with columns ``user.id,image,emotion`` and photos in ``images/``; its labels come in
mixed case (``HAPPINESS``, ``happiness``) and are compared lower-cased.
Labels: the facial_expressions map (happiness -> happy ...); contempt has no canonical label and is
excluded and counted. Face only, one photo per item. ``split``: ``all``.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.errors import InputNotFoundError
from emoreason.eval.datasets.base import ItemCollector, LoadedDataset, pick_split, read_csv_rows
from emoreason.labels import FACIAL_EXPRESSIONS


class FacialExpressionsAdapter:
    name = "facial_expressions"
    label_map = FACIAL_EXPRESSIONS
    modalities: tuple[str, ...] = ("face",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = Path(root).expanduser()
        pick_split(split, {"all": None}, "all", "facial_expressions")
        if root.is_file():
            csv_path = root
        elif (root / "labels.csv").is_file():
            csv_path = root / "labels.csv"
        elif (root / "data" / "legend.csv").is_file():
            csv_path = root / "data" / "legend.csv"
        else:
            raise InputNotFoundError(f"facial_expressions: no labels.csv or data/legend.csv under {root}")
        rows = read_csv_rows(csv_path, ("emotion",), str(csv_path))
        col = ItemCollector(self, csv_path.parent, split or "all")
        legend = csv_path.name == "legend.csv"
        base = csv_path.parent.parent / "images" if legend else csv_path.parent
        for row in rows:
            rel = row.get("image" if legend else "path", "").strip()
            if not rel:
                col.exclude("row without an image path")
                continue
            col.add(
                Path(rel).name,
                row["emotion"],
                path=base / rel,
                meta={"annotator": row.get("annotator_id") or row.get("user.id") or ""},
            )
        return col.done()
