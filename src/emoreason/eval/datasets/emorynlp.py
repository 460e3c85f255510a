"""EmoryNLP (Friends, Willcox-wheel emotions): the CSVs from MELD's repository or the original JSON.

Layouts: (1) ``emorynlp_{train,dev,test}_final.csv`` as distributed in github.com/declare-lab/MELD
(``data/emorynlp``) and in ``../shared/data/emorynlp``, columns ``Utterance, Speaker, Emotion, Scene_ID,
Utterance_ID, Season, Episode, Start_Time, End_Time``; (2) the original
github.com/emorynlp/emotion-detection ``json/emotion-detection-{trn,dev,tst}.json``:
``{"episodes": [{"scenes": [{"utterances": [{"utterance_id", "speakers", "transcript", "emotion"}]}]}]}``.

Text only. Labels: the EmoryNLP map — Joyful -> happy, Sad -> sad, Mad -> angry, Scared -> fearful,
Neutral -> neutral; Peaceful and Powerful have no canonical label and are excluded and counted.
``split``: train, dev (default), test.
"""

from __future__ import annotations

import json
from pathlib import Path

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets.base import (
    CONTEXT_TURNS,
    ItemCollector,
    LoadedDataset,
    dialogue_context,
    pick_split,
    read_csv_rows,
    require_dir,
)
from emoreason.labels import EMORYNLP

SPLITS = {"train": "trn", "dev": "dev", "test": "tst"}


class EmoryNlpAdapter:
    name = "emorynlp"
    label_map = EMORYNLP
    modalities: tuple[str, ...] = ("text",)
    layout = __doc__ or ""

    def load(self, root: Path, split: str | None = None) -> LoadedDataset:
        root = require_dir(Path(root), "emorynlp root")
        which = pick_split(split, SPLITS, "dev", "emorynlp")
        col = ItemCollector(self, root, which)
        csv_path = root / f"emorynlp_{which}_final.csv"
        json_path = next(
            (
                p
                for p in (
                    root / f"emotion-detection-{SPLITS[which]}.json",
                    root / "json" / f"emotion-detection-{SPLITS[which]}.json",
                )
                if p.is_file()
            ),
            None,
        )
        if csv_path.is_file():
            rows = read_csv_rows(csv_path, ("Utterance", "Emotion"), str(csv_path))
            context = dialogue_context(
                rows, lambda r: "/".join(r.get(k, "").strip() for k in ("Season", "Episode", "Scene_ID")),
                lambda r: r.get("Utterance_ID", "").strip(), lambda r: r["Utterance"].strip())
            for i, (row, ctx) in enumerate(zip(rows, context)):
                ids = [row.get(k, "").strip() for k in ("Season", "Episode", "Scene_ID", "Utterance_ID")]
                item_id = "s{}_e{}_c{}_u{}".format(*ids) if all(ids) else f"row{i}"
                col.add(
                    item_id,
                    row["Emotion"],
                    text=row["Utterance"].strip(),
                    speaker=_speaker(row.get("Speaker", "")),
                    meta={"context": ctx},
                )
        elif json_path is not None:
            try:
                doc = json.loads(json_path.read_text(encoding="utf-8"))
                scenes = [sc["utterances"] for ep in doc["episodes"] for sc in ep["scenes"]]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"emorynlp: {json_path} is not the emotion-detection JSON ({exc})"
                ) from None
            for scene in scenes:
                for k, u in enumerate(scene):
                    speakers = u.get("speakers") or []
                    col.add(
                        str(u["utterance_id"]),
                        str(u.get("emotion", "")),
                        text=str(u.get("transcript", "")),
                        speaker=", ".join(speakers) or None,
                        meta={"context": [str(v.get("transcript", ""))
                                          for v in scene[max(0, k - CONTEXT_TURNS):k]]},
                    )
        else:
            raise InputNotFoundError(
                f"emorynlp: neither {csv_path.name} nor emotion-detection-"
                f"{SPLITS[which]}.json found in {root}"
            )
        return col.done()


def _speaker(raw: str) -> str | None:
    """The CSV writes speakers as a Python list literal, e.g. "['Rachel Green']"; read it as text."""
    text = raw.strip().strip("[]")
    names = [part.strip().strip("'\"") for part in text.split(",") if part.strip()]
    return ", ".join(names) or None
