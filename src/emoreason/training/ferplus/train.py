"""Train the FER+ expression network and ship it as ONNX (needs torch and onnx: the ``train`` extra)::

    python -m emoreason.training.ferplus.train --data ../shared/data --out src/emoreason/assets/models/face

Trains :class:`~emoreason.training.ferplus.net.FerNet` on FER+ train with the vote distributions as soft
targets (cross-entropy against them), AdamW with a one-cycle schedule, batched augmentation
(:func:`~emoreason.training.ferplus.data.augment`), fixed seeds. After each epoch it scores FER+ valid
(test-time flip) and writes ``ferplus_net.onnx`` and ``ferplus_net.json`` (classes, input, valid scores,
``use_by_default``) into ``--out``, so a run cut short still leaves its last epoch's model. At the end it
stores the emotions' share of FER+ train's votes (``prior``) and picks the power of the prior correction
(``prior_power``, :meth:`~emoreason.perception.face.expression_net.ExpressionNet.scores`) that maximises
the canonical 7-class UAR on FER+ valid (:func:`choose_prior_power`).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from emoreason.eval import metrics as M
from emoreason.io.atomic import atomic_write_bytes, atomic_write_text
from emoreason.labels import CANONICAL
from emoreason.perception.face.expression_net import FERPLUS_TO_CANONICAL, canonical_scores
from emoreason.training.ferplus.data import FerSplit, augment, load_split, to_tensor
from emoreason.training.ferplus.net import FERPLUS_CLASSES, INPUT_SIZE, WIDTHS, FerNet

ONNX_FILE = "ferplus_net.onnx"
META_FILE = "ferplus_net.json"
EMOTIONS = 8  # the first eight classes are FER+'s emotions; then unknown, NF


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``logits`` against target distributions ``targets``."""
    return -(targets * F.log_softmax(logits, dim=1)).sum(1).mean()


@torch.no_grad()
def predict(model: FerNet, images: np.ndarray, batch: int = 512) -> np.ndarray:
    """Class probabilities (N, 10), averaged over the face and its mirror image."""
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        x = to_tensor(images[i:i + batch])
        p = F.softmax(model(x), 1) + F.softmax(model(torch.flip(x, dims=[3])), 1)
        out.append((p / 2).numpy())
    return np.concatenate(out)


def score(probs: np.ndarray, split: FerSplit) -> dict:
    """FER+'s majority-vote accuracy (faces whose majority is one of the eight emotions; the prediction is
    the most probable of the eight), per-class recall, unweighted mean recall, and the mean probability of
    unknown+NF on faces whose majority is unknown or NF versus the others."""
    keep = (split.majority >= 0) & (split.majority < EMOTIONS)
    pred = [FERPLUS_CLASSES[c] for c in probs[keep, :EMOTIONS].argmax(1)]
    truth = [FERPLUS_CLASSES[c] for c in split.majority[keep]]
    present = [c for c in FERPLUS_CLASSES[:EMOTIONS] if c in truth]
    recall = dict(zip(present, M.per_class(truth, pred, present).recall.tolist(), strict=True))
    junk = probs[:, EMOTIONS:].sum(1)
    return {"n": int(keep.sum()), "majority_accuracy": M.accuracy(truth, pred),
            "uar": M.uar(truth, pred), "recall": recall,
            "p_unknown_nf_on_unknown_nf": float(junk[~keep & (split.majority >= 0)].mean()),
            "p_unknown_nf_on_emotions": float(junk[keep].mean())}


def emotion_prior(split: FerSplit) -> np.ndarray:
    """The eight emotions' share of the split's votes (summing to 1)."""
    votes = split.targets[:, :EMOTIONS].sum(0)
    return votes / votes.sum()


def canonical_uar(probs: np.ndarray, split: FerSplit, prior: np.ndarray, power: float) -> dict:
    """Accuracy, UAR and recall over the canonical labels on the faces whose majority is one of FER+'s
    emotions other than contempt, after :func:`canonical_scores` with ``prior`` and ``power``."""
    names = list(FERPLUS_TO_CANONICAL)
    keep = (split.majority >= 0) & (split.majority < EMOTIONS) & (split.majority != names.index("contempt"))
    truth = [FERPLUS_TO_CANONICAL[names[m]] for m in split.majority[keep]]
    pred = [max(s, key=s.get) for s, _ in (canonical_scores(p, prior, power) for p in probs[keep])]
    present = [c for c in CANONICAL if c in truth]
    recall = dict(zip(present, M.per_class(truth, pred, present).recall.tolist(), strict=True))
    return {"n": int(keep.sum()), "accuracy": M.accuracy(truth, pred), "uar": M.uar(truth, pred),
            "recall": recall}


def choose_prior_power(probs: np.ndarray, split: FerSplit, prior: np.ndarray,
                       grid: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)) -> tuple[float, dict]:
    """The power in ``grid`` with the best canonical UAR on ``split`` (the lowest on ties), and every
    power's scores."""
    table = {str(g): canonical_uar(probs, split, prior, g) for g in grid}
    best = max(grid, key=lambda g: (round(table[str(g)]["uar"], 6), -g))
    return best, table


def export_onnx(model: FerNet, path: Path) -> None:
    """``model`` as ONNX (input ``x``: N x 1 x 48 x 48 float in 0..1; output ``logits``), written
    atomically."""
    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE), buf, dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}})
    atomic_write_bytes(path, buf.getvalue())


def train(train_split: FerSplit, valid: FerSplit | None, out: Path | None, epochs: int, batch: int,
          lr: float, seed: int, log=print, widths: tuple[int, ...] = WIDTHS,
          progress: int = 0) -> tuple[FerNet, list[dict]]:
    """Train a fresh :class:`FerNet`; after each epoch score ``valid`` and write the model into ``out``
    (when given). ``widths``: the network's stage widths; ``progress``: log the running loss every this
    many steps (0: only per epoch). Returns the network and the per-epoch records."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = FerNet(widths)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    steps = max(1, len(train_split.images) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.2)
    x_all, t_all = to_tensor(train_split.images), torch.from_numpy(train_split.targets)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        start, total = time.process_time(), 0.0
        order = torch.randperm(len(x_all), generator=gen)
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            loss = soft_cross_entropy(model(augment(x_all[idx], gen)), t_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss)
            if progress and (s + 1) % progress == 0:
                log(f"  epoch {epoch} step {s + 1}/{steps} loss {total / (s + 1):.4f} "
                    f"{time.process_time() - start:.0f} s CPU")
        record = {"epoch": epoch, "loss": total / steps, "cpu_s": time.process_time() - start}
        if valid is not None:
            record["valid"] = score(predict(model, valid.images), valid)
        history.append(record)
        log(json.dumps(record))
        if out is not None:
            write_model(model, out, history, use_by_default=False)
    return model, history


def write_model(model: FerNet, out: Path, history: list[dict], use_by_default: bool,
                extra: dict | None = None) -> None:
    """``model`` as ONNX and its JSON (``extra``: more entries, e.g. the prior correction)."""
    out.mkdir(parents=True, exist_ok=True)
    export_onnx(model, out / ONNX_FILE)
    meta = {"name": "emoreason FER+ net", "classes": list(FERPLUS_CLASSES),
            "input": [1, INPUT_SIZE, INPUT_SIZE],
            "widths": list(model.widths),
            "trained_on": "FER+ train (28,558 faces), vote distributions as targets",
            "use_by_default": use_by_default, "epochs": len(history),
            "valid": history[-1].get("valid") if history else None, **(extra or {})}
    atomic_write_text(out / META_FILE, json.dumps(meta, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m emoreason.training.ferplus.train",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="shared data (has ferplus/)")
    ap.add_argument("--out", type=Path, default=Path("src/emoreason/assets/models/face"))
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS),
                    help=f"the network's stage widths (default {' '.join(map(str, WIDTHS))})")
    ap.add_argument("--default", action="store_true", help="mark the model use_by_default in its JSON")
    ap.add_argument("--pool", action="store_true",
                    help="then fit the net+fer+facex pool on FER+ valid (emoreason.training.ferplus.pool)")
    ap.add_argument("--pool-default", action="store_true", help="mark that pool use_by_default")
    ap.add_argument("--limit", type=int, default=None, help="first rows of each split only (quick checks)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    root = args.data / "ferplus"
    tr, va = load_split(root, "train", args.limit), load_split(root, "valid", args.limit)
    model, history = train(tr, va, args.out, args.epochs, args.batch, args.lr, args.seed,
                           widths=tuple(args.widths), progress=50)
    prior = emotion_prior(tr)
    power, table = choose_prior_power(predict(model, va.images), va, prior)
    write_model(model, args.out, history, use_by_default=args.default,
                extra={"prior": prior.round(6).tolist(), "prior_power": power, "valid_canonical": table})
    print(f"wrote {args.out / ONNX_FILE}: FER+ valid majority accuracy "
          f"{history[-1]['valid']['majority_accuracy']:.3f}, canonical UAR {table[str(power)]['uar']:.3f} "
          f"(prior power {power}), {sum(h['cpu_s'] for h in history):.0f} s CPU")
    if args.pool:
        from emoreason.training.ferplus import pool

        return pool.main(["--data", str(args.data), "--out", str(args.out)]
                         + (["--default"] if args.pool_default else []))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
