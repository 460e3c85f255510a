"""Fine-tune the text-emotion model: LoRA adapters on MiniLM, reading each utterance with its dialogue
context, trained on MELD train and measured on MELD dev.

    python -m emoreason.training.text.finetune --data ../shared/data --out src/emoreason/assets/models/text

Trains one model per seed (default 0, 1, 2; fixed epochs, no early stopping), reports MELD dev weighted
F1 per epoch with and without context, mean ± std over the seeds, the majority and VADER-rule baselines
of the same run, fits the ship seed's softmax temperature on dev and writes its adapters
(:mod:`emoreason.perception.text.lora`), a JSON report and a confusion-matrix PNG. Runs on a GPU when
one is visible (``--device``), else on the CPU (about 25 min per seed on 2 cores). Scoring, temperature
and baselines are those of :mod:`emoreason.training.text.model`. torch is imported inside the functions
that train or predict.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from emoreason.io.atomic import atomic_write_text
from emoreason.labels import CANONICAL
from emoreason.perception.text.ensemble import TextEnsemble, write_ensemble
from emoreason.perception.text.head import META_FILE as HEAD_META
from emoreason.perception.text.lora import (
    LoraSpec,
    LoraTextModel,
    build_network,
    file_sha256,
    format_context,
    tokenize,
)
from emoreason.perception.text.sentence_encoder import default_minilm_dir
from emoreason.training.text.data import TextSet, load_emorynlp, load_meld
from emoreason.training.text.model import (
    baselines,
    class_weights,
    fit_temperature,
    mean_recall,
    mean_std,
    metrics,
    plot_confusion,
    without_overlap,
)

#: The tokenizer outputs the network takes, in its argument order.
BATCH_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def contexts_of(s: TextSet, turns: int) -> list[str]:
    history = s.history if s.history else [[] for _ in s.texts]
    return [format_context(h, turns) for h in history]


def predict_logits(network, tokenizer, texts, contexts, spec: LoraSpec, device, batch_size: int = 128):
    import torch

    network.eval()
    order = np.argsort([len(t) + len(c) for t, c in zip(texts, contexts)], kind="stable")
    out = np.zeros((len(texts), network.classifier.out_features), np.float64)
    with torch.inference_mode():
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            b = tokenize(tokenizer, [texts[k] for k in idx], [contexts[k] for k in idx], spec.max_length)
            logits = network(*(b[k].to(device) for k in BATCH_KEYS))
            out[idx] = logits.float().cpu().numpy()
    return out


def train_one(train: TextSet, dev: TextSet, spec: LoraSpec, seed: int, cfg: dict, device: str,
              minilm_dir: Path, log=print):
    """Returns (network, tokenizer, per-epoch dev metrics)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    network, tokenizer = build_network(minilm_dir, spec, len(CANONICAL), dropout=cfg["dropout"])
    if cfg["full_finetune"]:  # comparison only: the shipped files hold adapters, not whole layers
        for p in network.bert.encoder.parameters():
            p.requires_grad_(True)
    network.to(device)
    params = [p for p in network.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    n, bs = len(train.texts), cfg["batch_size"]
    steps = cfg["epochs"] * math.ceil(n / bs)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm)))
    weight = torch.tensor(class_weights(train.labels, cfg["class_weight_power"]), dtype=torch.float32,
                          device=device)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=cfg["label_smoothing"])
    ctx_train = contexts_of(train, spec.context_turns)
    ctx_dev, no_ctx = contexts_of(dev, spec.context_turns), [""] * len(dev.texts)
    history = []
    use_amp = device.startswith("cuda")
    for epoch in range(cfg["epochs"]):
        network.train()
        t0, total = time.time(), 0.0
        perm = rng.permutation(n)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            ctx = [ctx_train[k] if rng.random() >= cfg["context_dropout"] else "" for k in idx]
            b = tokenize(tokenizer, [train.texts[k] for k in idx], ctx, spec.max_length)
            y = torch.as_tensor(train.labels[idx], device=device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                logits = network(*(b[k].to(device) for k in BATCH_KEYS))
            loss = loss_fn(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        z = predict_logits(network, tokenizer, dev.texts, ctx_dev, spec, device)
        z0 = predict_logits(network, tokenizer, dev.texts, no_ctx, spec, device)
        m, m0 = metrics(dev.labels, z.argmax(1)), metrics(dev.labels, z0.argmax(1))
        history.append({"epoch": epoch + 1, "train_loss": total / n, "dev_weighted_f1": m["weighted_f1"],
                        "dev_macro_f1": m["macro_f1"], "dev_weighted_f1_no_context": m0["weighted_f1"],
                        "seconds": round(time.time() - t0, 1)})
        log(f"  seed {seed} epoch {epoch + 1}: loss {total / n:.3f}, dev wF1 {m['weighted_f1']:.3f} "
            f"(no context {m0['weighted_f1']:.3f}), {time.time() - t0:.0f} s")
    return network, tokenizer, history


def _head(s: TextSet, n: int) -> TextSet:
    """The first ``n`` utterances (smoke tests)."""
    return TextSet(s.name, s.texts[:n], s.labels[:n], s.previous[:n], s.excluded, s.history[:n])


def run(data: Path, out: Path | None, seeds: list[int], spec: LoraSpec, cfg: dict, device: str,
        minilm_dir: Path, figure: Path | None, log=print) -> dict:
    train, dev = load_meld(data, "train"), load_meld(data, "dev")
    if cfg.get("limit"):
        train, dev = _head(train, cfg["limit"]), _head(dev, cfg["limit"])
    if cfg["add_emorynlp"]:
        extra, dropped = without_overlap(load_emorynlp(data, "train"), dev)
        train = TextSet("meld+emorynlp", train.texts + extra.texts,
                        np.concatenate([train.labels, extra.labels]), train.previous + extra.previous,
                        train.excluded + extra.excluded, train.history + extra.history)
        log(f"EmoryNLP train added: {len(extra.texts)} utterances ({dropped} overlapping MELD dev dropped)")
    report: dict = {"spec": asdict(spec), "config": cfg, "device": device, "train": train.name,
                    "n_train": len(train.texts), "n_dev": len(dev.texts),
                    "baselines": baselines(train, dev), "seeds": {}}
    for name, m in report["baselines"].items():
        log(f"baseline {name}: dev weighted F1 {m['weighted_f1']:.3f}")
    ctx_dev = contexts_of(dev, spec.context_turns)
    trained = {}
    for seed in seeds:
        network, tokenizer, history = train_one(train, dev, spec, seed, cfg, device, minilm_dir, log)
        z = predict_logits(network, tokenizer, dev.texts, ctx_dev, spec, device)
        final = metrics(dev.labels, z.argmax(1))
        report["seeds"][str(seed)] = {"history": history, "final": final,
                                      "temperature": fit_temperature(z, dev.labels)}
        if out is not None:
            trained[seed] = network.cpu()
    finals = [report["seeds"][str(s)]["final"] for s in seeds]
    report["summary"] = {**mean_std(finals), "recall_mean": mean_recall(finals),
                         "no_context_weighted_f1": [report["seeds"][str(s)]["history"][-1]
                                                    ["dev_weighted_f1_no_context"] for s in seeds]}
    if out is not None:
        save_members(out, trained, spec, cfg, report, minilm_dir, train.name, device)
        local_sha = file_sha256(minilm_dir / "model.safetensors")
        if not cfg.get("base_sha256") or cfg["base_sha256"] == local_sha:
            report["shipped_file"] = evaluate_saved(out, dev, minilm_dir)
            log("shipped ensemble (reloaded as analyze loads it): "
                f"dev wF1 {report['shipped_file']['weighted_f1']:.3f}")
            if figure is not None:
                plot_saved(report["shipped_file"], figure)
    return report


def save_members(out: Path, trained: dict, spec: LoraSpec, cfg: dict, report: dict, minilm_dir: Path,
                 train_name: str, device: str) -> None:
    """Each seed's adapters under ``out/lora_s<seed>``, and ``text_ensemble.json`` joining them (and the
    MLP head, when ``out`` holds one and ``cfg["head_weight"]`` > 0)."""
    local_sha = file_sha256(minilm_dir / "model.safetensors")
    for seed, network in trained.items():
        meta = {"name": f"emoreason text LoRA v1 (MiniLM r{spec.rank}, seed {seed})",
                "trained_on": train_name,
                "epochs": cfg["epochs"], "device": device, "seed": seed,
                "dev_weighted_f1": report["seeds"][str(seed)]["final"]["weighted_f1"]}
        if cfg.get("base_sha256") and cfg["base_sha256"] != local_sha:
            meta["trained_base_sha256"] = local_sha  # e.g. a float16-rounded copy carried to a GPU machine
        LoraTextModel.save(out / f"lora_s{seed}", network, spec, tuple(CANONICAL),
                           report["seeds"][str(seed)]["temperature"], cfg.get("base_sha256") or local_sha,
                           meta)
    head_weight = cfg.get("head_weight", 0.0) if (out / HEAD_META).is_file() else 0.0
    write_ensemble(out, [f"lora_s{s}" for s in sorted(trained)], head_weight,
                   {"name": f"emoreason text ensemble v1 ({len(trained)} MiniLM LoRA"
                            + (" + MLP head)" if head_weight else ")"),
                    "dev_weighted_f1_lora_seeds_mean_std": [report["summary"]["weighted_f1"]["mean"],
                                                            report["summary"]["weighted_f1"]["std"]]})


def plot_saved(m: dict, figure: Path) -> None:
    plot_confusion(m["confusion"], f"text ensemble, MELD dev, weighted F1 {m['weighted_f1']:.3f}", figure)


def evaluate_saved(folder: Path, dev: TextSet, minilm_dir: Path | None = None) -> dict:
    """MELD dev metrics of the model folder as `analyze` loads it (float16 adapters merged, ensemble)."""
    model = TextEnsemble.load(folder, minilm_dir)
    return metrics(dev.labels, model.predict_proba(dev.texts, dev.history).argmax(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("src/emoreason/assets/models/text"))
    ap.add_argument("--no-save", action="store_true", help="measure only, write no model files")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--device", default="auto", help="auto (cuda when visible), cpu, cuda")
    ap.add_argument("--minilm-dir", type=Path, default=None,
                    help="the base MiniLM folder (default: the wheel's)")
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--context-turns", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=6)  # the shipped members: 6
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--context-dropout", type=float, default=0.3,
                    help="share of training utterances shown without context, so single sentences work too")
    ap.add_argument("--class-weight-power", type=float, default=0.5)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--full-finetune", action="store_true", help="train whole layers too (comparison only)")
    ap.add_argument("--add-emorynlp", action="store_true")
    ap.add_argument("--base-sha256", default=None,
                    help="record this SHA-256 as the base MiniLM file's (when training on a re-encoded copy)")
    ap.add_argument("--head-weight", type=float, default=1 / 3,
                    help="the MLP head's share of the ensemble when --out holds one "
                         "(what training.text.model writes)")
    ap.add_argument("--evaluate-only", action="store_true",
                    help="train nothing: measure the model folder --out on MELD dev, write --figure")
    ap.add_argument("--limit", type=int, default=0,
                    help="use only the first N train and dev utterances (smoke test)")
    ap.add_argument("--figure", type=Path, default=Path("docs/model_cards/text_confusion.png"))
    ap.add_argument("--report", type=Path, default=Path("docs/model_cards/text_finetune.json"))
    args = ap.parse_args(argv)
    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if device == "cpu":
        torch.set_num_threads(max(1, torch.get_num_threads()))
    spec = LoraSpec(args.rank, args.alpha, args.max_length, args.context_turns)
    cfg = {k: getattr(args, k) for k in ("epochs", "lr", "batch_size", "dropout", "weight_decay",
                                         "context_dropout", "class_weight_power", "label_smoothing",
                                         "full_finetune", "add_emorynlp", "limit", "base_sha256",
                                         "head_weight")}
    minilm_dir = args.minilm_dir or default_minilm_dir()
    if args.evaluate_only:
        m = evaluate_saved(args.out, load_meld(args.data, "dev"), minilm_dir)
        plot_saved(m, args.figure)
        print(f"{args.out}: MELD dev weighted F1 {m['weighted_f1']:.4f}, macro F1 {m['macro_f1']:.4f}, "
              f"accuracy {m['accuracy']:.4f}; recall "
              + ", ".join(f"{k} {v:.3f}" for k, v in m["recall"].items()))
        if args.report is not None and args.report.is_file():
            report = json.loads(args.report.read_text())
            report["shipped_file"] = m
            atomic_write_text(args.report, json.dumps(report, indent=1) + "\n")
        return 0
    t0 = time.time()
    report = run(args.data, None if args.no_save else args.out, args.seeds, spec, cfg, device, minilm_dir,
                 None if args.no_save else args.figure)
    report["seconds"] = round(time.time() - t0, 1)
    s = report["summary"]
    print(f"MELD dev weighted F1 {s['weighted_f1']['mean']:.3f} ± {s['weighted_f1']['std']:.3f}, macro F1 "
          f"{s['macro_f1']['mean']:.3f} ± {s['macro_f1']['std']:.3f} over seeds {args.seeds} "
          f"({report['seconds']:.0f} s on {device})")
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.report, json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
