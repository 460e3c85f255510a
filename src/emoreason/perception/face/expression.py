"""Every expression model the face stage can use, in one registry keyed by the names a user may choose
(``analyze(face_model=...)``, ``--face-model``; :data:`FACE_MODELS`).

Each model turns one face's :class:`FaceReadings` -- the AU-like measures of its mesh, fer's
probabilities and features, and facex's probabilities when facex runs -- into probabilities by canonical
label:

==========  ========================================================  =================================
name        what gives the probabilities                              reported as (``expression_model``)
==========  ========================================================  =================================
``fer``     fer's FER2013 model alone                                 ``fer``
``facex``   facex's model alone                                       ``facex``
``pool``    the fer+facex log-linear pool (``pool.json``)             ``pool``
``head``    the softmax head on feature blocks (``head.json``)        ``face_head``
``net``     the FER+-trained network (``ferplus_net.onnx``)           ``ferplus_net``
``net_pool`` the net+fer+facex log-linear pool (``net_pool.json``)  ``net_pool``
==========  ========================================================  =================================

``"default"`` (or None) is the shipped choice: the first of :data:`DEFAULT_ORDER` whose file is in the
face model folder and marked ``use_by_default``, else fer alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emoreason.assets import model_dir
from emoreason.errors import ConfigError, ModelError
from emoreason.perception.face.action_units import shape_vector
from emoreason.perception.face.expression_net import NET_FILE, ExpressionNet
from emoreason.perception.face.head import ExpressionHead
from emoreason.perception.face.image_models import log_probabilities
from emoreason.perception.face.pool import ExpressionPool, NetPool

DEFAULT_FACE_MODEL_DIR = model_dir("face")


@dataclass(frozen=True)
class FaceReadings:
    """What the face stage measures on one face, for the expression models to combine."""

    points: np.ndarray  # the 478-point mesh (pixels)
    au_raw: np.ndarray  # AU-like measures (action_units.raw_vector)
    fer_scores: dict[str, float]  # fer's probabilities by canonical label
    fer_features: np.ndarray  # fer's 128-d penultimate features
    facex_scores: dict[str, float] | None = None  # facex's probabilities (None where facex did not run)
    net_probs: np.ndarray | None = None  # the FER+ network's 10 probabilities (None where it did not run)

    def feature_blocks(self) -> dict[str, np.ndarray]:
        """The named feature blocks an :class:`ExpressionHead` reads (``facex_logp`` only when facex ran)."""
        blocks = {"au": self.au_raw, "shape": shape_vector(self.points),
                  "fer_logp": log_probabilities(self.fer_scores), "fer_feat": self.fer_features}
        if self.facex_scores is not None:
            blocks["facex_logp"] = log_probabilities(self.facex_scores)
        return blocks


class ExpressionModel:
    """What every expression model has: ``name`` (reported as ``details["expression_model"]``), ``file``
    (its file in the face model folder, if any), ``uses_facex`` (whether facex must run), ``net`` (the
    :class:`ExpressionNet` the face stage must run, or None), ``use_by_default`` (what its file says),
    ``provenance`` (entries for the Result's model list), ``facex_every_video`` (in videos, facex runs on
    every n-th frame with a face unless the caller says otherwise), :meth:`load` and :meth:`scores`."""

    name = ""
    file: str | None = None
    uses_facex = False
    facex_every_video = 3
    net: ExpressionNet | None = None
    use_by_default = False

    @classmethod
    def load(cls, folder: Path) -> ExpressionModel:
        """The model, its file read from the face model folder ``folder`` (fer and facex need none)."""
        return cls()

    @property
    def provenance(self) -> dict[str, str]:
        return {}

    def scores(self, readings: FaceReadings) -> dict[str, float]:
        raise NotImplementedError


class FerExpression(ExpressionModel):
    name = "fer"

    def scores(self, readings: FaceReadings) -> dict[str, float]:
        return readings.fer_scores


class FacexExpression(ExpressionModel):
    name = "facex"
    uses_facex = True

    def scores(self, readings: FaceReadings) -> dict[str, float]:
        return readings.facex_scores


class FittedExpression(ExpressionModel):
    """An expression model fitted by ``python -m emoreason.training.face`` and read from its file in the
    face model folder: the file says whether it is the default and names it for the Result."""

    fitted_class: type = object  # the class whose ``load(folder)`` reads the file
    what = ""  # for the error when the file is missing
    provenance_key = ""
    provenance_default = ""

    def __init__(self, fitted) -> None:
        self.fitted = fitted
        self.use_by_default = bool(fitted.meta.get("use_by_default", False))

    @classmethod
    def load(cls, folder: Path) -> FittedExpression:
        if not (folder / cls.file).is_file():
            raise ModelError(f"face model folder {folder} has no {cls.what} ({cls.file})")
        return cls(cls.fitted_class.load(folder))

    @property
    def provenance(self) -> dict[str, str]:
        return {self.provenance_key: str(self.fitted.meta.get("name", self.provenance_default))}


class PoolExpression(FittedExpression):
    name = "pool"
    uses_facex = True
    file = ExpressionPool.FILE
    fitted_class = ExpressionPool
    what = "fer+facex pool"
    provenance_key, provenance_default = "face_pool", "emoreason fer+facex pool"

    def scores(self, readings: FaceReadings) -> dict[str, float]:
        return self.fitted.scores(readings.fer_scores, readings.facex_scores, readings.au_raw)


class HeadExpression(FittedExpression):
    name = "face_head"
    file = ExpressionHead.FILE
    fitted_class = ExpressionHead
    what = "trained head"
    provenance_key, provenance_default = "face_head", "emoreason face head"

    def __init__(self, head: ExpressionHead) -> None:
        super().__init__(head)
        self.uses_facex = "facex_logp" in head.blocks

    def scores(self, readings: FaceReadings) -> dict[str, float]:
        return self.fitted.scores(readings.feature_blocks())


class NetExpression(ExpressionModel):
    """The FER+ network alone (:mod:`~emoreason.perception.face.expression_net`); its JSON beside the ONNX
    file says whether it is the default."""

    name = "ferplus_net"
    file = NET_FILE

    def __init__(self, net: ExpressionNet) -> None:
        self.net = net
        self.use_by_default = bool(net.meta.get("use_by_default", False))

    @classmethod
    def load(cls, folder: Path) -> NetExpression:
        if not (folder / cls.file).is_file():
            raise ModelError(f"face model folder {folder} has no FER+ network ({cls.file})")
        return cls(ExpressionNet.load(folder / cls.file))

    @property
    def provenance(self) -> dict[str, str]:
        return {"face_net": str(self.net.meta.get("name", "emoreason FER+ net"))}

    def scores(self, readings: FaceReadings) -> dict[str, float]:
        return self.net.scores(readings.net_probs)[0]


class NetPoolExpression(NetExpression):
    """The log-linear pool of the FER+ network, fer and facex (:class:`NetPool`, ``net_pool.json``), which
    says whether it is the default; the network's file must be in the same folder."""

    name = "net_pool"
    file = NetPool.FILE
    #: facex carries the pool's smallest weight (0.22 against the network's 1.47 in the shipped file), so in
    #: videos it runs on every 6th frame: that pays for the network, so the face stage is no slower than the
    #: fer+facex pool with facex on every 3rd frame (benchmarks/bench_face_models.py), and per-frame labels
    #: agree with facex on every frame for 95 % of frames even when the face changes every second
    #: (benchmarks/facex_interval.py). Photos run it on every image.
    facex_every_video = 6

    def __init__(self, net: ExpressionNet, pool: NetPool) -> None:
        self.net, self.pool = net, pool
        self.uses_facex = pool.uses_facex
        self.use_by_default = bool(pool.meta.get("use_by_default", False))

    @classmethod
    def load(cls, folder: Path) -> NetPoolExpression:
        if not (folder / cls.file).is_file():
            raise ModelError(f"face model folder {folder} has no net+fer+facex pool ({cls.file})")
        return cls(NetExpression.load(folder).net, NetPool.load(folder))

    @property
    def provenance(self) -> dict[str, str]:
        return {**super().provenance, "face_pool": str(self.pool.meta.get("name", "emoreason net pool"))}

    def scores(self, readings: FaceReadings) -> dict[str, float]:
        return self.pool.scores({"net": self.net.scores(readings.net_probs)[0], "fer": readings.fer_scores,
                                 "facex": readings.facex_scores})


#: The expression models by the name a user gives (``face_model``).
EXPRESSION_MODELS: dict[str, type[ExpressionModel]] = {
    "fer": FerExpression,
    "facex": FacexExpression,
    "pool": PoolExpression,
    "head": HeadExpression,
    "net": NetExpression,
    "net_pool": NetPoolExpression,
}
#: What "default" picks: the first of these whose file is shipped and says ``use_by_default``; else fer.
DEFAULT_ORDER = ("net_pool", "net", "pool", "head")
#: The names a user may give for the face stage's expression model.
FACE_MODELS = ("default", *EXPRESSION_MODELS)


def check_face_model(value: object) -> str | None:
    """The expression model ``value`` names (None for "default" or None), else a ConfigError."""
    if value is None or value == "default":
        return None
    if value not in FACE_MODELS:
        raise ConfigError(f"face model must be one of {', '.join(FACE_MODELS)}, not {value!r}")
    return str(value)


def load_expression_model(face_model: str | None, folder: str | Path | None = None) -> ExpressionModel:
    """The expression model ``face_model`` names (see :data:`FACE_MODELS`), its files read from ``folder``
    (default: the shipped face models). A named model whose file is missing is a ModelError; so is a
    malformed file, also when "default" only looks at it."""
    name = check_face_model(face_model)
    folder = Path(folder) if folder is not None else DEFAULT_FACE_MODEL_DIR
    if name is not None:
        return EXPRESSION_MODELS[name].load(folder)
    for candidate in DEFAULT_ORDER:
        kind = EXPRESSION_MODELS[candidate]
        if (folder / kind.file).is_file():
            model = kind.load(folder)
            if model.use_by_default:
                return model
    return FerExpression()
