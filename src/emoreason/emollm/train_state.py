"""Training checkpoints (``checkpoints/step-N``): Accelerate state with only the trainable weights,
the newest ``keep`` folders kept, and a strict check of what a resumed run loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_write_text


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
