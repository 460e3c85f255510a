"""Fit the fusion's per-modality temperatures and priors on held-out predictions; write fusion.json.

    python -m emoreason.training.fusion --data ../shared/data \
        --out src/emoreason/assets/models/fusion.json
    python -m emoreason.training.fusion --only face   # refit one modality, keep the others' entries

Temperature T_m (p ∝ p_m^(1/T_m)) minimises the negative log-likelihood of each modality's held-out
predictions: the text model on MELD dev (it was trained on MELD train); the default face model (the FER+
net + fer + facex pool, fitted on FER+) on a stratified sample of ``facial_expressions`` (photos it never
saw); the voice model's out-of-fold predictions on RAVDESS (6 folds grouped by actor). The priors are a
rule of thumb, not a fit: there is no labelled data here with face, voice and words together, so each
prior is the modality's held-out skill above chance, (UAR − 1/K) / (1 − 1/K), from the same predictions
(UAR and accuracy from :mod:`emoreason.eval.metrics`). Each of these corpora is acted or scripted in its
own way; treat the priors as rough.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from emoreason.eval import metrics as M
from emoreason.io.atomic import atomic_write_text
from emoreason.io.image import load_image
from emoreason.labels import CANONICAL, FACIAL_EXPRESSIONS
from emoreason.perception.face.analyzer import analyze_face_image
from emoreason.perception.text.analyzer import TextAnalyzer
from emoreason.training.text.data import load_meld
from emoreason.training.voice import model as vm
from emoreason.training.voice import multicorpus

SEED = 0


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The T in [0.25, 8] minimising the NLL of softmax(log p / T) at the true labels."""
    logp = np.log(np.clip(probs, 1e-8, 1.0))

    def nll(t: float) -> float:
        z = logp / t
        z = z - z.max(axis=1, keepdims=True)
        logq = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logq[np.arange(len(y)), y].mean())

    return float(minimize_scalar(nll, bounds=(0.25, 8.0), method="bounded").x)


def skill(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """UAR and accuracy of the argmax of ``probs`` against label indices ``y``, and the skill above chance
    over the K classes present in ``y``: (UAR − 1/K) / (1 − 1/K), floored at 0."""
    pred = probs.argmax(axis=1)
    uar = M.uar(y, pred)
    k = len(np.unique(y))
    return {"uar": uar, "accuracy": M.accuracy(y, pred), "classes": k,
            "skill": max(0.0, (uar - 1 / k) / (1 - 1 / k)), "n": int(len(y))}


def text_predictions(data: Path, model_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MELD dev through the text model (default: the shipped one), each utterance with its dialogue's
    earlier ones."""
    dev = load_meld(data, "dev")
    probs = TextAnalyzer(model_dir=model_dir).score_texts(dev.texts, dev.history)  # CANONICAL order
    return probs, dev.labels


def face_predictions(data: Path, per_class: int,
                     model_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A stratified sample of ``facial_expressions`` (``per_class`` photos per canonical class, seeded)
    through the face model (default: the shipped one); photos without a usable face are left out."""
    df = pd.read_csv(data / "facial_expressions" / "labels.csv")
    df["canon"] = [FACIAL_EXPRESSIONS.to_canonical.get(e.lower()) for e in df["emotion"]]
    df = df[df["canon"].notna()]
    df = df.sample(frac=1.0, random_state=SEED).groupby("canon").head(per_class)
    probs, y = [], []
    for path, canon in zip(df["path"], df["canon"]):
        out = analyze_face_image(load_image(data / "facial_expressions" / path), model_dir=model_dir)
        if out.usable:
            probs.append([out.scores.get(lab, 0.0) for lab in CANONICAL])
            y.append(CANONICAL.index(canon))
    return np.array(probs), np.array(y)


def voice_predictions(data: Path) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities of the shipped voice model's recipe (version 7,
    :func:`emoreason.training.voice.multicorpus.ravdess_oof`: the population regression with its test views,
    EmoDB in every fold's training), 6 folds grouped by RAVDESS actor, mapped onto the canonical labels."""
    oof, y = multicorpus.ravdess_oof(data, SEED)
    probs = np.zeros((len(y), len(CANONICAL)))
    for j, lab in enumerate(vm.CLASSES):
        probs[:, CANONICAL.index(vm.RAVDESS_TO_CANONICAL[lab])] += oof[:, j]
    y_canon = np.array([CANONICAL.index(vm.RAVDESS_TO_CANONICAL[vm.CLASSES[i]]) for i in y])
    return probs, y_canon


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("src/emoreason/assets/models/fusion.json"))
    ap.add_argument("--faces-per-class", type=int, default=120)
    ap.add_argument("--models", type=Path, default=None,
                    help="a models folder with text/ and face/ to calibrate (default: the shipped models)")
    ap.add_argument("--only", choices=("text", "face", "voice"), action="append", default=None,
                    help="refit only this modality (repeatable); the others are kept from the --out file")
    args = ap.parse_args(argv)
    report = {}
    if args.only:
        if not args.out.is_file():
            print(f"--only keeps the other modalities from {args.out}, which does not exist", file=sys.stderr)
            return 2
        report = {m: r for m, r in json.loads(args.out.read_text())["held_out"].items() if m not in args.only}
    text_dir, face_dir = (None, None) if args.models is None else (args.models / "text", args.models / "face")
    for name, fn in (("text", lambda: text_predictions(args.data, text_dir)),
                     ("face", lambda: face_predictions(args.data, args.faces_per_class, face_dir)),
                     ("voice", lambda: voice_predictions(args.data))):
        if args.only and name not in args.only:
            continue
        probs, y = fn()
        t = fit_temperature(probs, y)
        report[name] = {"temperature": round(t, 3), **{k: (round(v, 4) if isinstance(v, float) else v)
                                                       for k, v in skill(probs, y).items()}}
        print(f"{name}: T = {t:.3f}, UAR {report[name]['uar']:.3f} on {report[name]['n']} held-out items",
              file=sys.stderr)
    report = {m: report[m] for m in ("text", "face", "voice")}
    top = max(r["skill"] for r in report.values())
    payload = {
        "priors": {m: round(r["skill"] / top, 3) for m, r in report.items()},
        "temperatures": {m: r["temperature"] for m, r in report.items()},
        "held_out": report,
        "note": "temperatures fitted (NLL) on held-out predictions per modality: text on MELD dev, face "
                "(the FER+ net + fer + facex pool, fitted on FER+ valid) on a stratified facial_expressions "
                "sample, voice out-of-fold on RAVDESS grouped by actor; "
                "priors = each modality's held-out skill above chance, scaled to the best (a rule of thumb: "
                "no labelled face+voice+words data was available to fit them jointly)",
    }
    atomic_write_text(args.out, json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
