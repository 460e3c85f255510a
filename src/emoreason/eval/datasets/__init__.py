"""Corpus adapters: each reads one corpus' official (or the shared folder's) layout into EvalItems."""

from __future__ import annotations

from emoreason.errors import ConfigError
from emoreason.eval.datasets.base import DatasetAdapter, EvalItem, LoadedDataset
from emoreason.eval.datasets.ckplus import CkPlusAdapter
from emoreason.eval.datasets.cped import CpedAdapter
from emoreason.eval.datasets.crema_d import CremaDAdapter
from emoreason.eval.datasets.dfew import DfewAdapter
from emoreason.eval.datasets.emodb import EmoDbAdapter
from emoreason.eval.datasets.emoevent import EmoEventAdapter
from emoreason.eval.datasets.emorynlp import EmoryNlpAdapter
from emoreason.eval.datasets.facial_expressions import FacialExpressionsAdapter
from emoreason.eval.datasets.ferplus import FerPlusAdapter
from emoreason.eval.datasets.iemocap import IemocapAdapter
from emoreason.eval.datasets.image_folder import ImageFolderAdapter
from emoreason.eval.datasets.mafw import MafwAdapter
from emoreason.eval.datasets.manifest import ManifestAdapter
from emoreason.eval.datasets.meld import MeldAdapter
from emoreason.eval.datasets.mer2023 import Mer2023Adapter
from emoreason.eval.datasets.ravdess import RavdessAdapter
from emoreason.eval.datasets.xed import XedAdapter

_ADAPTERS = {
    "ravdess": RavdessAdapter,
    "crema-d": CremaDAdapter,
    "meld": MeldAdapter,
    "emorynlp": EmoryNlpAdapter,
    "iemocap": IemocapAdapter,
    "mer2023": Mer2023Adapter,
    "dfew": DfewAdapter,
    "mafw": MafwAdapter,
    "emodb": EmoDbAdapter,
    "ck+": CkPlusAdapter,
    "facial_expressions": FacialExpressionsAdapter,
    "ferplus": FerPlusAdapter,
    "xed": XedAdapter,
    "emoevent": EmoEventAdapter,
    "cped": CpedAdapter,
    "image_folder": ImageFolderAdapter,
    "csv": ManifestAdapter,
}
_ALIASES = {
    "cremad": "crema-d",
    "crema_d": "crema-d",
    "ckplus": "ck+",
    "ck": "ck+",
    "manifest": "csv",
    "facial-expressions": "facial_expressions",
    "emo-db": "emodb",
    "mer": "mer2023",
    "fer+": "ferplus",
    "fer-plus": "ferplus",
    "image-folder": "image_folder",
    "folder": "image_folder",
}

DATASET_NAMES: tuple[str, ...] = tuple(_ADAPTERS)


def get_adapter(name: str, label_set: str | None = None) -> DatasetAdapter:
    """The adapter for ``name`` (``label_set`` only applies to the csv manifest and the image folder)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _ADAPTERS:
        raise ConfigError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")
    if key == "csv":
        return ManifestAdapter(label_set)
    if key == "image_folder":
        return ImageFolderAdapter(label_set)
    if label_set:
        raise ConfigError(
            "--label-set applies only to --dataset csv and image_folder (each corpus has its own "
            "documented map)"
        )
    return _ADAPTERS[key]()


__all__ = ["DATASET_NAMES", "DatasetAdapter", "EvalItem", "LoadedDataset", "get_adapter"]
