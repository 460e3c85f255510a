"""Train the default text-emotion head on MELD train, measure it on MELD dev, and ship it.

    python -m emoreason.training.text.model --data ../shared/data --out src/emoreason/assets/models/text

Features: MiniLM hidden states (mean-pooled, several layers) + VADER + surface cues (see
:mod:`emoreason.perception.text.head`). Head: a one-hidden-layer network trained with torch (CPU), exported
to numpy arrays in safetensors. Every number is measured on MELD dev in this run, next to two baselines:
the majority class and a VADER rule; scores come from :mod:`emoreason.eval.metrics` (sklearn's definitions,
every canonical class counted) and the figure from :mod:`emoreason.eval.plots`. Fixed seeds; MiniLM
features are cached under ``--cache``. torch is imported inside :func:`train_head` (the only function
that needs it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError, EmoreasonError
from emoreason.eval import metrics as M
from emoreason.eval.plots import save_confusion_figure
from emoreason.io.atomic import atomic_write_text
from emoreason.labels import CANONICAL
from emoreason.perception.text.head import TextHead, build_features, surface_features, vader_features
from emoreason.perception.text.sentence_encoder import SentenceEncoder
from emoreason.training.text.data import TextSet, load_emorynlp, load_goemotions, load_meld

CONFIG = {  # chosen on MELD dev (see docs/model_cards/text.md); change here, not in the code below
    "minilm_layers": [1, 2, 3, 4, 5, 6],
    "hidden": 256,
    "dropout": 0.5,
    "input_dropout": 0.1,
    "weight_decay": 0.01,
    "lr": 1e-3,
    "epochs": 8,
    "members": 3,  # networks trained with different seeds, merged into one wider network (logits averaged)
    "batch": 64,
    "class_weight_power": 0.5,  # loss weight per class = (n_max / n_class) ** power
    "extra_corpora": [],  # "emorynlp" and/or "goemotions": both lowered MELD dev F1 (model card)
    "extra_weight": 1.0,
}


def layer_features(encoder: SentenceEncoder, texts: list[str], layers: tuple[int, ...],
                   cache: Path | None) -> np.ndarray:
    """MiniLM layer features for ``texts``, each unique text encoded once, cached as .npy."""
    unique = sorted(set(texts))
    path = None
    if cache is not None:
        key = hashlib.sha1(("\x00".join(unique) + repr(layers) + str(encoder.model_dir)).encode()).hexdigest()
        path = cache / f"minilm-layers-{key[:16]}.npy"
    if path is not None and path.is_file():
        feats = np.load(path, allow_pickle=False)
    else:
        _, feats = encoder.encode_layers(unique, layers)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, feats, allow_pickle=False)
    index = {t: i for i, t in enumerate(unique)}
    return feats[[index[t] for t in texts]]


def featurise(encoder: SentenceEncoder, s: TextSet, layers: tuple[int, ...],
              cache: Path | None) -> np.ndarray:
    return build_features(layer_features(encoder, s.texts, layers, cache), vader_features(s.texts),
                          surface_features(s.texts))


def without_overlap(extra: TextSet, dev: TextSet) -> tuple[TextSet, int]:
    """Drop utterances of ``extra`` that also occur in MELD dev (both come from *Friends*)."""
    dev_texts = {" ".join(t.lower().split()) for t in dev.texts}
    keep = [i for i, t in enumerate(extra.texts) if " ".join(t.lower().split()) not in dev_texts]
    kept = TextSet(extra.name, [extra.texts[i] for i in keep], extra.labels[keep],
                   [extra.previous[i] for i in keep], extra.excluded,
                   [extra.history[i] for i in keep] if extra.history else [])
    return kept, len(extra.texts) - len(keep)


def train_head(x: np.ndarray, y: np.ndarray, seed: int, cfg: dict, sample_weight: np.ndarray | None = None,
               layers_used: tuple[int, ...] = (6,)) -> TextHead:
    import torch

    torch.manual_seed(seed)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xt = torch.tensor((x - mean) / scale, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    class_w = class_weights(y, cfg["class_weight_power"])
    sw = torch.ones(len(y)) if sample_weight is None else torch.tensor(sample_weight, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Dropout(cfg["input_dropout"]),
                              torch.nn.Linear(x.shape[1], cfg["hidden"]), torch.nn.ReLU(),
                              torch.nn.Dropout(cfg["dropout"]),
                              torch.nn.Linear(cfg["hidden"], len(CANONICAL)))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(class_w, dtype=torch.float32), reduction="none")
    gen = torch.Generator().manual_seed(seed)
    for _ in range(cfg["epochs"]):
        net.train()
        perm = torch.randperm(len(yt), generator=gen)
        for i in range(0, len(yt), cfg["batch"]):
            b = perm[i:i + cfg["batch"]]
            opt.zero_grad()
            (loss_fn(net(xt[b]), yt[b]) * sw[b]).mean().backward()
            opt.step()
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    layers = [(m.weight.detach().numpy().T.astype(np.float64), m.bias.detach().numpy().astype(np.float64))
              for m in lin]
    return TextHead(mean.astype(np.float64), scale.astype(np.float64), layers, uses_context=False,
                    layers_used=layers_used)


def merge_members(members: list[TextHead]) -> TextHead:
    """One network whose logits are the mean of the members' logits (same inputs, one hidden layer each)."""
    first = members[0]
    k = len(members)
    w1 = np.hstack([m.layers[0][0] for m in members])
    b1 = np.concatenate([m.layers[0][1] for m in members])
    w2 = np.vstack([m.layers[1][0] for m in members]) / k
    b2 = np.mean([m.layers[1][1] for m in members], axis=0)
    return TextHead(first.mean, first.scale, [(w1, b1), (w2, b2)], first.uses_context, first.layers_used)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The scalar T minimising the negative log-likelihood of softmax(logits / T) (grid search)."""
    best, best_nll = 1.0, np.inf
    for t in np.round(np.arange(0.5, 3.01, 0.05), 2):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        nll = float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def class_weights(y: np.ndarray, power: float = 0.5) -> np.ndarray:
    """Loss weight per canonical class, ``(n_max / n_class) ** power`` (1 for the commonest class, 0 for a
    class absent from ``y``)."""
    counts = np.bincount(y, minlength=len(CANONICAL)).astype(float)
    return np.where(counts > 0, (counts.max() / np.maximum(counts, 1)) ** power, 0.0)


def metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    """Weighted and macro F1, accuracy, recall per class and the confusion matrix of label indices ``pred``
    against ``y``, over all canonical classes (a class absent from both scores 0, as sklearn's
    ``zero_division=0`` with a fixed label list)."""
    t, p = [CANONICAL[i] for i in y], [CANONICAL[i] for i in pred]
    per_class = M.per_class(t, p, CANONICAL)
    return {"weighted_f1": M.weighted_f1(t, p, labels=CANONICAL),
            "macro_f1": M.macro_f1(t, p, labels=CANONICAL),
            "accuracy": M.accuracy(t, p),
            "recall": dict(zip(CANONICAL, map(float, per_class.recall))),
            "confusion": M.confusion_matrix(t, p, CANONICAL).tolist()}


def mean_std(runs: list[dict]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation over ``runs`` (:func:`metrics` dicts) of the headline scores."""
    values = {key: [r[key] for r in runs] for key in ("weighted_f1", "macro_f1", "accuracy")}
    return {key: {"mean": float(np.mean(v)), "std": float(np.std(v))} for key, v in values.items()}


def mean_recall(runs: list[dict]) -> dict[str, float]:
    """Each canonical class' recall averaged over ``runs`` (:func:`metrics` dicts)."""
    return {lab: float(np.mean([r["recall"][lab] for r in runs])) for lab in CANONICAL}


def baselines(train: TextSet, dev: TextSet) -> dict[str, dict]:
    """:func:`metrics` on ``dev`` of the train split's majority class and of :func:`vader_rule`."""
    majority = int(np.bincount(train.labels).argmax())
    return {"majority": metrics(dev.labels, np.full(len(dev.labels), majority)),
            "vader_rule": metrics(dev.labels, vader_rule(dev.texts, train))}


def vader_rule(texts: list[str], train: TextSet) -> np.ndarray:
    """Baseline: compound >= 0.05 -> happy; <= -0.05 -> the commonest negative class in train; else
    neutral."""
    negatives = [CANONICAL.index(k) for k in ("sad", "angry", "fearful", "disgusted")]
    neg = max(negatives, key=lambda k: int((train.labels == k).sum()))
    compound = vader_features(texts)[:, 3]
    return np.where(compound >= 0.05, CANONICAL.index("happy"),
                    np.where(compound <= -0.05, neg, CANONICAL.index("neutral")))


def plot_confusion(confusion: list[list[int]], title: str, path: Path) -> None:
    """The model card's confusion figure: one row-normalised panel over the canonical classes."""
    save_confusion_figure([(np.asarray(confusion), CANONICAL, title)], path, panel_size=(6.4, 5.4),
                          ylabel="true (row-normalised)")


def run(data: Path, out: Path, cache: Path | None, seeds: list[int], figure: Path | None,
        cfg: dict = CONFIG) -> dict:
    t0 = time.time()
    encoder = SentenceEncoder()
    layers = tuple(cfg["minilm_layers"])
    train, dev = load_meld(data, "train"), load_meld(data, "dev")
    x, y = featurise(encoder, train, layers, cache), train.labels
    weights = np.ones(len(y))
    extras = {}
    loaders = {"emorynlp": load_emorynlp, "goemotions": load_goemotions}
    for name in cfg["extra_corpora"]:
        if name not in loaders:
            raise ConfigError(f"unknown extra corpus {name!r}; choose from {', '.join(loaders)}")
        extra, dropped = without_overlap(loaders[name](data, "train"), dev)
        extras[name] = {"used": len(extra.texts), "dropped_overlapping_meld_dev": dropped,
                        "excluded_labels": dict(extra.excluded)}
        x = np.vstack([x, featurise(encoder, extra, layers, cache)])
        y = np.concatenate([y, extra.labels])
        weights = np.concatenate([weights, np.full(len(extra.labels), cfg["extra_weight"])])
    x_dev = featurise(encoder, dev, layers, cache)
    t_features = time.time() - t0

    report = {"data": {"train": f"MELD train ({len(train.texts)} utterances)", "extra": extras,
                       "dev": f"MELD dev ({len(dev.texts)} utterances)",
                       "terms": "GPL-3.0 (declare-lab/MELD)"},
              "config": cfg, "seeds": seeds, "baselines": baselines(train, dev), "runs": []}
    heads = []
    for seed in seeds:
        head = merge_members([train_head(x, y, 1000 * seed + k, cfg, weights, layers)
                              for k in range(cfg["members"])])
        heads.append(head)
        report["runs"].append(dict(seed=seed, **metrics(dev.labels, head.predict_proba(x_dev).argmax(1))))
    report.update(mean_std(report["runs"]))
    report["recall_mean"] = mean_recall(report["runs"])
    shipped = heads[0]
    shipped.temperature = fit_temperature(shipped.logits(x_dev), dev.labels)
    shipped.meta = {"name": f"emoreason text head v1 (MELD train, seed {seeds[0]})",
                    "trained_on": report["data"],
                    "dev_metrics_seed": {k: v for k, v in report["runs"][0].items() if k != "confusion"},
                    "dev_weighted_f1_mean_std": report["weighted_f1"], "config": cfg,
                    "temperature_fitted_on": "MELD dev (negative log-likelihood)"}
    shipped.save(out, weight_dtype="float16")
    reloaded = TextHead.load(out)  # what ships: float16 weights; measure it, not the float64 copy
    shipped_metrics = metrics(dev.labels, reloaded.predict_proba(x_dev).argmax(axis=1))
    report["shipped"] = {k: v for k, v in shipped_metrics.items() if k != "confusion"}
    report["shipped"]["bytes"] = sum(p.stat().st_size for p in Path(out).iterdir() if p.is_file())
    if figure is not None:
        r0 = report["runs"][0]
        plot_confusion(r0["confusion"], f"text head on MELD dev (seed {seeds[0]}): weighted F1 "
                       f"{r0['weighted_f1']:.3f}, macro F1 {r0['macro_f1']:.3f}", figure)
    report["temperature"] = shipped.temperature
    report["seconds"] = {"features": round(t_features, 1), "total": round(time.time() - t0, 1)}
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("src/emoreason/assets/models/text"))
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "emoreason-text-cache",
                    help="folder for cached MiniLM features ('none' to disable)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--figure", type=Path, default=Path("docs/model_cards/text_confusion.png"))
    ap.add_argument("--report", type=Path, default=None, help="also write the full report as JSON here")
    args = ap.parse_args(argv)
    try:
        report = run(args.data, args.out, None if str(args.cache) == "none" else args.cache, args.seeds,
                     args.figure)
    except EmoreasonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.report is not None:
        atomic_write_text(args.report, json.dumps(report, indent=2) + "\n")
    print(summary(report))
    return 0


def summary(r: dict) -> str:
    b = r["baselines"]
    lines = [f"MELD dev, {len(r['seeds'])} seeds {r['seeds']}:",
             f"  ours      weighted F1 {r['weighted_f1']['mean']:.4f} +- {r['weighted_f1']['std']:.4f}   "
             f"macro F1 {r['macro_f1']['mean']:.4f} +- {r['macro_f1']['std']:.4f}   "
             f"accuracy {r['accuracy']['mean']:.4f} +- {r['accuracy']['std']:.4f}",
             f"  majority  weighted F1 {b['majority']['weighted_f1']:.4f}   "
             f"macro F1 {b['majority']['macro_f1']:.4f}",
             f"  VADER rule weighted F1 {b['vader_rule']['weighted_f1']:.4f}   macro F1 "
             f"{b['vader_rule']['macro_f1']:.4f}",
             "  recall per class (mean over seeds): "
             + ", ".join(f"{k} {v:.3f}" for k, v in r["recall_mean"].items()),
             "  per seed weighted F1: " + ", ".join(f"{x['weighted_f1']:.4f}" for x in r["runs"]),
             f"  shipped file (seed {r['seeds'][0]}, float16): "
             f"weighted F1 {r['shipped']['weighted_f1']:.4f}, "
             f"macro F1 {r['shipped']['macro_f1']:.4f}, {r['shipped']['bytes']} bytes",
             f"  temperature (seed {r['seeds'][0]}, fitted on dev) {r['temperature']:.2f}; "
             f"seconds: {r['seconds']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
