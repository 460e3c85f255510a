"""Training state around the loop in ``train.py``: the length-bucketed batch sampler and its epoch, the
learning-rate schedule, and checkpoints (``checkpoints/step-N``: Accelerate state with only the trainable
weights, the newest ``keep`` folders kept, and a strict check of what a resumed run loads)."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import torch

from emoreason.emollm.recipe import TrainRecipe
from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_write_text


class BucketBatchSampler(torch.utils.data.Sampler):
    """Batches of similar length: shuffle, sort within windows of 50 batches, shuffle the batches."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int = 0, window: int = 50):
        self.lengths, self.batch_size, self.window = lengths, batch_size, window
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        rng = random.Random(self.seed + self.epoch)
        idx = list(range(len(self.lengths)))
        rng.shuffle(idx)
        span = self.batch_size * self.window
        batches = []
        for start in range(0, len(idx), span):
            chunk = sorted(idx[start: start + span], key=lambda j: self.lengths[j])
            batches += [chunk[k: k + self.batch_size] for k in range(0, len(chunk), self.batch_size)]
        rng.shuffle(batches)
        return iter(batches)

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)


def set_epoch(loader, sampler: BucketBatchSampler | None, epoch: int) -> None:
    """Set the epoch on the prepared loader and on the bucket sampler itself: under several processes
    Accelerate wraps the sampler in a shard wrapper that does not pass ``set_epoch`` on."""
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    if sampler is not None:
        sampler.set_epoch(epoch)


def lr_lambda(recipe: TrainRecipe, total_steps: int):
    """Linear warm-up, then cosine from lr to min_lr (or constant), as a LambdaLR factor."""
    o = recipe.optim
    floor = o.min_lr / o.lr if o.lr > 0 else 0.0

    def factor(step: int) -> float:
        if o.warmup_steps and step < o.warmup_steps:
            return (step + 1) / o.warmup_steps
        if o.schedule == "constant":
            return 1.0
        progress = min(1.0, (step - o.warmup_steps) / max(1, total_steps - o.warmup_steps))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def newest_checkpoint(out: Path) -> Path | None:
    ckpts = sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))
    return ckpts[-1] if ckpts else None


def trainable_only(models, weights, output_dir) -> None:
    """Accelerate save-state hook: keep only trainable weights (LoRA, projectors) in ``step-N``; the
    frozen LLM and encoders come from their paths again on resume. (FSDP / DeepSpeed save through their
    own code, which this hook does not see.)"""
    for i, (model, state) in enumerate(zip(models, weights, strict=False)):
        keep = {n for n, p in model.named_parameters() if p.requires_grad}
        weights[i] = {k: v for k, v in state.items() if k in keep}


def check_checkpoint_weights(ckpt: Path, model) -> None:
    """A ``step-N`` folder must hold exactly the model's trainable weights (else resuming would silently
    keep fresh ones)."""
    from safetensors import safe_open

    file = ckpt / "model.safetensors"
    if not file.is_file():
        return  # FSDP / DeepSpeed layouts: their loaders check
    with safe_open(str(file), "pt") as f:
        saved = set(f.keys())
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    if saved != trainable:
        raise ConfigError(f"{ckpt} does not fit this recipe's trainable weights: "
                          f"{len(trainable - saved)} missing, {len(saved - trainable)} unexpected "
                          "(start a fresh output_dir, or train-llm --no-resume)")


def save_state(acc, out: Path, step: int, epoch: int, batches_in_epoch: int, keep: int) -> None:
    """Save ``checkpoints/step-N`` (trainable weights, optimizer, scheduler, RNG) and delete all but the
    newest ``keep`` of them."""
    target = out / "checkpoints" / f"step-{step}"
    acc.save_state(str(target))
    if acc.is_main_process:
        atomic_write_text(target / "trainer_state.json",
                          json.dumps({"step": step, "epoch": epoch, "batches_in_epoch": batches_in_epoch}))
        ckpts = sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))
        for old in ckpts[:-keep]:
            shutil.rmtree(old)
    acc.wait_for_everyone()
