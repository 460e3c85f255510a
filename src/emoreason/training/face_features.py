"""The features the face-model training script (:mod:`emoreason.training.face`) fits on: every labelled photo
of ``facial_expressions`` through the face stage's own feature code (:func:`extract`, kept in an optional
.npz by :func:`cached_features`), each photo's person for grouped cross-validation (:func:`person_of`), and
the population AU baseline of the neutral photos (:func:`population_baseline`).
"""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import cv2
import numpy as np

from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_write
from emoreason.labels import CANONICAL, FACIAL_EXPRESSIONS
from emoreason.perception.face import action_units as au
from emoreason.perception.face.crops import face_crop_gray, face_square_gray
from emoreason.perception.face.expression import FaceReadings
from emoreason.perception.face.image_models import FacexClassifier, FerClassifier
from emoreason.perception.face.mesh import FaceMeshTracker

#: An LFW-style photo's file name ends in a four-digit number (the cross-source check's training side).
LFW_NAME = re.compile(r"_\d{4}\.jpg$")


def person_of(path: str) -> str:
    """Group key: the person's name in the file name (``Al_Gore_0002.jpg`` -> ``Al_Gore``)."""
    stem = Path(path).stem
    return re.sub(r"_\d+$", "", stem)


def extract(data: Path, log=print) -> dict[str, np.ndarray]:
    """Features of every labelled photo whose label has a canonical counterpart and where a face is found:
    the face stage's own feature blocks (:meth:`FaceReadings.feature_blocks`) with facex run on every
    photo, the canonical label index ``y``, the person (``group``), whether it is an LFW-style photo."""
    root = data / "facial_expressions"
    labels_csv = root / "labels.csv"
    if not labels_csv.is_file():
        raise ConfigError(f"{labels_csv} not found: point --data at the shared data folder")
    with labels_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fer = FerClassifier()
    facex = FacexClassifier()
    out: dict[str, list] = {k: [] for k in ("au", "shape", "fer_logp", "fer_feat", "facex_logp", "y", "group",
                                            "lfw", "path")}
    skipped = {"no canonical label": 0, "no face": 0, "unreadable": 0}
    t0 = time.time()
    with FaceMeshTracker(static=True) as tracker:
        for i, row in enumerate(rows):
            label = FACIAL_EXPRESSIONS.canonical(row["emotion"])
            if label is None:
                skipped["no canonical label"] += 1
                continue
            gray = cv2.imread(str(root / row["path"]), cv2.IMREAD_GRAYSCALE)
            if gray is None:
                skipped["unreadable"] += 1
                continue
            rgb = np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
            face = max(tracker.faces(rgb), key=lambda m: m.size, default=None)
            if face is None:
                skipped["no face"] += 1
                continue
            fer_scores, fer_features = fer.predict(face_crop_gray(rgb, face.points))
            readings = FaceReadings(face.points, au.raw_vector(face.points), fer_scores, fer_features,
                                    facex.predict(face_square_gray(rgb, face.points)))
            for block, values in readings.feature_blocks().items():
                out[block].append(values)
            out["y"].append(CANONICAL.index(label))
            out["group"].append(person_of(row["path"]))
            out["lfw"].append(bool(LFW_NAME.search(row["path"])))
            out["path"].append(row["path"])
            if i % 1000 == 0:
                log(f"  features: {i}/{len(rows)} photos, {time.time() - t0:.0f} s")
    log(f"  features: {len(out['y'])} photos used; skipped {skipped}")
    arrays = {k: np.asarray(v) for k, v in out.items()}
    arrays["skipped"] = np.array(json.dumps(skipped))
    return arrays


def population_baseline(neutral_raw: np.ndarray) -> au.AUBaseline:
    """The AU baseline of a population: per AU, the median and the MAD-SD (MAD x 1.4826) of the raw
    measures of its neutral photos."""
    mad = np.median(np.abs(neutral_raw - np.median(neutral_raw, 0)), 0) * 1.4826
    return au.AUBaseline(dict(zip(au.AU_NAMES, np.median(neutral_raw, 0), strict=True)),
                         dict(zip(au.AU_NAMES, mad, strict=True)),
                         source=f"population: median and MAD-SD of {len(neutral_raw)} neutral photos "
                                "of facial_expressions")


def cached_features(data: Path, cache: Path | None, log=print) -> dict[str, np.ndarray]:
    """:func:`extract`'s features, read from ``cache`` (.npz) when it holds them, else extracted (and
    written to ``cache`` when one is given)."""
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            feats = {k: z[k] for k in z.files}
        if "facex_logp" in feats:  # a cache without facex's features is extracted again
            return feats
    feats = extract(data, log)
    if cache is not None:
        with atomic_write(cache, "wb") as f:
            np.savez(f, **feats)
    return feats
