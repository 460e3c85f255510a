"""Refit one stream's projector of a trained multimodal LLM, everything else frozen, on standardised features.

Why: the compact model's voice token is the mean Whisper tiny.en state of a clip, and those means all point
almost the same way (median cosine to their mean 0.98), so a projector trained on them raw hardly
separates clips. Here the stream's features are standardised (per dimension, with the training items' mean
and standard deviation), a fresh projector is trained on them with the LLM, its LoRA and the other
projectors frozen, and the standardisation is then folded into the projector's first ``Linear``
(``W / sd``, ``b - W @ (mean / sd)``), so the saved model reads raw features, as the input run does, and
needs no new config key. Nothing else changes: items without that stream get the input run's answers.

The loss is the ``[emotion]`` answer's (label word then end-of-sequence) cross-entropy, as in training.
Writes a new run folder (config, tokenizer, adapter with the refitted projector) for ``export_compact``::

    python -m emoreason.training.emollm.refit_projector RUN DATA.jsonl CACHE OUT --stream audio \\
        --corpus ravdess --epochs 2 --lr 1e-3
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

import safetensors.torch
import torch

from emoreason.emollm.checkpoint import core_model, load_trained
from emoreason.emollm.features import FeatureCache
from emoreason.emollm.modeling_emollm import init_projector
from emoreason.emollm.steps import Prepared, _prompt
from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_write_text
from emoreason.training.script import print_summary

ADAPTER_WEIGHTS = "adapter_model.safetensors"


def read_items(path: str | Path, stream: str, cache: FeatureCache, corpus: str | None) -> list[dict]:
    """The data file's labelled records (of ``corpus`` when given) whose cached features hold ``stream``."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if corpus and rec.get("corpus") != corpus or not rec.get("label") or rec["id"] not in cache:
            continue
        if stream in cache.clips[rec["id"]]["streams"]:
            out.append(rec)
    if not out:
        raise ConfigError(f"{path}: no labelled record with a cached {stream!r} stream"
                          + (f" in corpus {corpus!r}" if corpus else ""))
    return out


def _batch(items, feats, proc, stream):
    seqs, labels, rows = [], [], []
    for it, f in zip(items, feats, strict=True):
        prepared = Prepared({stream: f[None, None, :]}, it.get("subtitle") or "")
        prompt, answer = _prompt(proc, prepared, "emotion"), proc.answer_ids(it["label"])
        seqs.append(prompt + answer)
        labels.append([-100] * len(prompt) + answer)
        rows.append(prepared.features[stream])
    width, pad = max(map(len, seqs)), proc.tokenizer.pad_token_id or 0
    ids = torch.tensor([s + [pad] * (width - len(s)) for s in seqs])
    lab = torch.tensor([x + [-100] * (width - len(x)) for x in labels])
    att = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs])
    return ids, att, lab, {stream: torch.cat(rows)}


def refit_projector(run: str | Path, data: str | Path, cache_dir: str | Path, out: str | Path,
                    stream: str = "audio", corpus: str | None = None, epochs: int = 2, lr: float = 1e-3,
                    batch_size: int = 8, seed: int = 0, log=print) -> dict:
    """Refit ``stream``'s projector of the trained folder ``run`` (see the module) and write ``out``."""
    run, out = Path(run), Path(out)
    if out.exists():
        raise ConfigError(f"{out} exists: choose a new folder")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model, proc = load_trained(run, is_trainable=False)
    model.eval()
    core = core_model(model)
    if stream not in core.projectors:
        raise ConfigError(f"{run} has no {stream!r} projector (streams: {', '.join(core.projectors)})")
    for p in model.parameters():
        p.requires_grad_(False)
    cache = FeatureCache(cache_dir)
    items = read_items(data, stream, cache, corpus)
    raw = {it["id"]: cache.get(it["id"])[stream].float().reshape(-1) for it in items}
    x = torch.stack(list(raw.values()))
    mean, sd = x.mean(0), x.std(0) + 1e-4
    wrapped = core.projectors[stream]
    proj = wrapped.modules_to_save["default"] if hasattr(wrapped, "modules_to_save") else wrapped
    init_projector(proj, 0.02)
    proj.requires_grad_(True)
    steps = epochs * -(-len(items) // batch_size)
    opt = torch.optim.AdamW(proj.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    losses, step = [], 0
    for _ in range(epochs):
        rng.shuffle(items)
        for i in range(0, len(items), batch_size):
            chunk = items[i:i + batch_size]
            ids, att, lab, feats = _batch(chunk, [(raw[c["id"]] - mean) / sd for c in chunk], proc, stream)
            loss = core.language_model(inputs_embeds=core.embed_multimodal(ids, feats), attention_mask=att,
                                       labels=lab).loss
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            losses.append(loss.item())
            if step % 10 == 0 or step == steps:
                log(f"step {step}/{steps} loss {sum(losses[-10:]) / len(losses[-10:]):.3f}")
    first = next(m for m in proj.modules() if isinstance(m, torch.nn.Linear))
    with torch.no_grad():  # fold the standardisation into the first Linear: raw features in, same output
        first.bias.sub_((first.weight * (mean / sd)[None, :]).sum(1))
        first.weight.div_(sd[None, :])
    proj.requires_grad_(False)
    _write_run(run, out, proj, stream)
    summary = {"run": str(run), "stream": stream, "corpus": corpus, "items": len(items), "epochs": epochs,
               "lr": lr, "batch_size": batch_size, "seed": seed, "steps": steps,
               "loss_first_10": sum(losses[:10]) / min(10, len(losses)),
               "loss_last_10": sum(losses[-10:]) / min(10, len(losses))}
    atomic_write_text(out / "refit_summary.json", json.dumps(summary, indent=2))
    return summary


def _write_run(run: Path, out: Path, proj: torch.nn.Module, stream: str) -> None:
    """``run``'s folder (config, tokenizer, adapter) with ``stream``'s projector weights replaced."""
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(run, tmp, ignore=shutil.ignore_patterns("checkpoints", "runs", "log.csv"))
    weights = tmp / "adapter" / ADAPTER_WEIGHTS
    state = safetensors.torch.load_file(str(weights))
    prefix = f"base_model.model.projectors.{stream}."
    new = {prefix + k: v.detach().clone().contiguous() for k, v in proj.state_dict().items()}
    missing = set(new) - set(state)
    if missing:
        raise ConfigError(f"{run}: the adapter has no {sorted(missing)[0]} to replace")
    state.update(new)
    safetensors.torch.save_file(state, str(weights))
    tmp.rename(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a trained emollm run folder")
    ap.add_argument("data", help="the builder's JSONL with id, label, subtitle")
    ap.add_argument("cache", help="the feature cache holding the items' features")
    ap.add_argument("out", help="new run folder to write")
    ap.add_argument("--stream", default="audio")
    ap.add_argument("--corpus", default=None, help="only records with this 'corpus' field")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    return print_summary(lambda: refit_projector(args.run, args.data, args.cache, args.out, args.stream,
                                                 args.corpus, args.epochs, args.lr, args.batch_size,
                                                 args.seed))


if __name__ == "__main__":
    raise SystemExit(main())
