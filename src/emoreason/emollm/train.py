"""Instruction tuning with Accelerate: one process, DDP, DeepSpeed ZeRO-2/3 or FSDP (``accelerate launch``).

Reads cached features (never videos), trains LoRA + projectors with the loss on answer tokens only,
logs loss / learning rate / tokens per second to ``log.csv`` (and TensorBoard when installed), saves
Accelerate state (trainable weights only, see ``train_state.py``) every ``save_every`` steps under
``checkpoints/``, keeps the newest ``keep_checkpoints`` and resumes from the newest. The learning-rate
schedule advances once per optimizer step, whatever the number of processes.

The optional extras (bitsandbytes for QLoRA, TensorBoard) are imported only when a recipe asks for them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import random
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedDataParallelKwargs, set_seed
from transformers import BitsAndBytesConfig

from emoreason.emollm import backbones
from emoreason.emollm.checkpoint import (
    core_model,
    load_tokenizer,
    load_trained,
    prepare_placeholders,
    save_trained,
)
from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.dataset import InstructionExample, read_examples
from emoreason.emollm.features import FeatureCache
from emoreason.emollm.instructions import instruction_for
from emoreason.emollm.lora import apply_lora
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
from emoreason.emollm.processing_emollm import EmoLLMProcessor
from emoreason.emollm.recipe import TrainRecipe, load_recipe
from emoreason.emollm.tokenizer import train_wordlevel_tokenizer
from emoreason.emollm.train_state import (
    BucketBatchSampler,
    check_checkpoint_weights,
    lr_lambda,
    newest_checkpoint,
    save_state,
    set_epoch,
    trainable_only,
)
from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_write_text


class InstructionDataset(torch.utils.data.Dataset):
    """Examples joined with their cached features; the instruction is drawn per (seed, epoch, index)."""

    def __init__(self, examples: list[InstructionExample], cache: FeatureCache, processor: EmoLLMProcessor,
                 max_length: int, seed: int = 0):
        self.examples = [e for e in examples if e.text_only or e.clip_id in cache]
        self.missing = len(examples) - len(self.examples)
        self.cache, self.processor, self.max_length = cache, processor, max_length
        self.seed, self.epoch = seed, 0
        prompt_len = len(processor.prompt_ids("", "emotion", ""))
        self.label_words = list(processor.config.label_words)
        longest = max((len(processor.prompt_ids(None, task, instruction_for(task, index=k,
                                                                            label_words=self.label_words)))
                       for task in {e.task for e in self.examples} for k in range(8)), default=0)
        if longest + 2 > max_length:  # a recipe error: say so before training, not inside a worker
            raise ConfigError(f"max_length {max_length} is too small for the prompt layout: the longest "
                              f"prompt without a subtitle is {longest} tokens, and the answer needs 2 more")
        self.lengths = [prompt_len + len(processor.tokenizer(e.answer + " " + e.subtitle,
                                                              add_special_tokens=False)["input_ids"])
                        for e in self.examples]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        ex = self.examples[i]
        rng = random.Random(hash((self.seed, self.epoch, i)))
        feats = {} if ex.text_only else self.cache.get(ex.clip_id)
        instruction = instruction_for(ex.task, rng, label_words=self.label_words)
        enc = self.processor.encode(ex.subtitle, ex.task, instruction, ex.answer,
                                    streams_present=feats.keys(), max_length=self.max_length)
        return dict(enc, features=feats)


def build_for_training(recipe: TrainRecipe, examples: list[InstructionExample]):
    """(trainable model, processor): a fresh model around the recipe's parts, or the previous stage's.

    Frozen weights load in an explicit dtype (bf16 with ``bf16: true``, else fp32, whatever dtype the
    files hold); trainable weights (LoRA, projectors) are always fp32, as AdamW needs: with ``bf16`` the
    forward runs under autocast (Accelerate's ``mixed_precision="bf16"``)."""
    out = Path(recipe.output_dir)
    dtype = torch.bfloat16 if recipe.bf16 else torch.float32
    if recipe.init_from:
        model, processor = load_trained(recipe.init_from, is_trainable=True, dtype=dtype)
        if (Path(recipe.init_from) / "base").is_dir() and not (out / "base").is_dir():
            shutil.copytree(Path(recipe.init_from) / "base", out / "base")
        return upcast_trainable(model), processor
    config = EmoLLMConfig(**recipe.model_config)
    tok_path = recipe.tokenizer_path or recipe.text_model_path
    if tok_path == "wordlevel":
        tokenizer = train_wordlevel_tokenizer([e.answer for e in examples] + [e.subtitle for e in examples])
    elif tok_path:
        tokenizer = load_tokenizer(backbones.llm_path(tok_path))
    else:
        raise ConfigError("the recipe needs tokenizer_path or text_model_path")
    if recipe.text_model_path is None and config.text_config is None:
        raise ConfigError("the recipe needs text_model_path, or model_config.text_config for a random LLM")
    quant = None
    if recipe.lora is not None and recipe.lora.load_in_4bit:
        quant = _qlora_config()
    model = EmoLLMForConditionalGeneration.from_components(config, recipe.text_model_path, dtype=dtype,
                                                           quantization_config=quant)
    prepare_placeholders(model, tokenizer)
    processor = EmoLLMProcessor(tokenizer, model.config)
    if recipe.text_model_path is None:  # random LLM: keep its weights, inference rebuilds from them
        model.save_pretrained(str(out / "base"), safe_serialization=True)
    if recipe.lora is not None:
        model = apply_lora(model, recipe.lora.r, recipe.lora.alpha, recipe.lora.dropout, recipe.lora.targets)
    else:
        model.encoders.requires_grad_(False)
    return upcast_trainable(model), processor


def upcast_trainable(model: torch.nn.Module) -> torch.nn.Module:
    """Cast every trainable parameter to fp32 in place (frozen ones keep their dtype); returns ``model``."""
    for p in model.parameters():
        if p.requires_grad and p.dtype != torch.float32:
            p.data = p.data.float()
    return model


def _qlora_config():
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ConfigError("lora.load_in_4bit (QLoRA) needs bitsandbytes and a CUDA GPU: "
                          "pip install bitsandbytes, or set load_in_4bit: false") from None
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_compute_dtype=torch.bfloat16)


def train(recipe: TrainRecipe, resume: bool = True) -> dict[str, Any]:
    """Run one stage of a recipe; returns a summary (steps, final loss, output folder)."""
    out = Path(recipe.output_dir)
    out.mkdir(parents=True, exist_ok=True)  # every path (LLM from a folder, random LLM, stage 2) logs here
    trackers = ["tensorboard"] if recipe.tensorboard and _has_tensorboard() else []
    # The scheduler is stepped here once per optimizer step: a prepared scheduler stepped "with the
    # optimizer" advances num_processes times per step (warm-up and decay N x too fast under DDP).
    acc = Accelerator(gradient_accumulation_steps=recipe.optim.grad_accum,
                      mixed_precision="bf16" if recipe.bf16 else "no", log_with=trackers or None,
                      project_dir=str(out), step_scheduler_with_optimizer=False,
                      # a batch without a stream (no face found) leaves that projector without gradient
                      kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    set_seed(recipe.seed)
    examples, report = read_examples(recipe.data, recipe.stage, recipe.labels_file, recipe.subtitles_file,
                                     label_words=recipe.label_words)
    examples = [e for e in examples if e.task in recipe.tasks]
    if not examples:
        raise ConfigError(f"no training examples in {recipe.data} ({report.line()})")
    cache = FeatureCache(recipe.feature_cache)
    model, processor = build_for_training(recipe, examples)
    cache.check(core_model(model).config)
    dataset = InstructionDataset(examples, cache, processor, recipe.max_length, recipe.seed)
    if len(dataset) == 0:
        raise ConfigError(f"none of the {len(examples)} examples has cached features in "
                          f"{recipe.feature_cache}")
    acc.print(f"data: {report.line()}; {dataset.missing} examples without cached features left out")
    if recipe.gradient_checkpointing:
        core_model(model).gradient_checkpointing_enable()
    sampler = None
    if recipe.bucket_by_length:
        sampler = BucketBatchSampler(dataset.lengths, recipe.optim.batch_size, recipe.seed)
        loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=processor.collate,
                                             num_workers=recipe.dataloader_workers)
    else:
        loader = torch.utils.data.DataLoader(dataset, batch_size=recipe.optim.batch_size, shuffle=True,
                                             collate_fn=processor.collate,
                                             num_workers=recipe.dataloader_workers)
    params = [p for p in model.parameters() if p.requires_grad]
    o = recipe.optim
    optimizer = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay, betas=tuple(o.betas))
    steps_per_epoch = math.ceil(len(loader) / o.grad_accum / acc.num_processes)
    total = o.max_steps or steps_per_epoch * o.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(recipe, total))
    model, optimizer, loader, scheduler = acc.prepare(model, optimizer, loader, scheduler)
    acc.register_save_state_pre_hook(trainable_only)
    step, start_epoch, skip = 0, 0, 0
    ckpt = newest_checkpoint(out) if resume else None
    if ckpt is not None:
        check_checkpoint_weights(ckpt, model)
        acc.load_state(str(ckpt), strict=False)  # frozen weights are not in step-N: checked just above
        state = json.loads((ckpt / "trainer_state.json").read_text())
        step, start_epoch, skip = state["step"], state["epoch"], state["batches_in_epoch"]
        acc.print(f"resumed from {ckpt} at step {step}")
    if trackers:
        acc.init_trackers(recipe.name)
    log_path = out / "log.csv"
    new_log = not log_path.exists()
    tokens, t0, last_loss = 0, time.perf_counter(), float("nan")
    # only the main process opens log.csv, so its header is written once, by the process that creates it
    with (open(log_path, "a", newline="", encoding="utf-8") if acc.is_main_process
          else contextlib.nullcontext(io.StringIO())) as logf:
        writer = csv.writer(logf)
        if new_log:
            writer.writerow(["step", "epoch", "loss", "lr", "tokens_per_s"])
        model.train()
        for epoch in range(start_epoch, o.epochs if o.max_steps is None else 10**9):
            set_epoch(loader, sampler, epoch)
            dataset.epoch = epoch
            batches = acc.skip_first_batches(loader, skip) if skip else loader
            seen = skip
            skip = 0
            for batch in batches:
                seen += 1
                with acc.accumulate(model):
                    loss = model(**batch).loss
                    acc.backward(loss)
                    if acc.sync_gradients and o.max_grad_norm:
                        acc.clip_grad_norm_(params, o.max_grad_norm)
                    optimizer.step()
                    if acc.sync_gradients:  # once per optimizer step, whatever the number of processes
                        scheduler.step()
                    optimizer.zero_grad()
                tokens += int(batch["attention_mask"].sum())
                if not acc.sync_gradients:
                    continue
                step += 1
                last_loss = float(loss.detach())
                if step % recipe.log_every == 0 or step == total:
                    tps = tokens * acc.num_processes / max(1e-9, time.perf_counter() - t0)
                    lr = scheduler.get_last_lr()[0]
                    if acc.is_main_process:
                        writer.writerow([step, epoch, f"{last_loss:.5f}", f"{lr:.3e}", f"{tps:.1f}"])
                        logf.flush()
                    acc.log({"loss": last_loss, "lr": lr, "tokens_per_s": tps}, step=step)
                if step % recipe.save_every == 0:
                    save_state(acc, out, step, epoch, seen, recipe.keep_checkpoints)
                if step >= total:
                    break
            if step >= total:
                break
    acc.wait_for_everyone()
    elapsed = time.perf_counter() - t0
    config = core_model(acc.unwrap_model(model)).config  # analyze notes streams no example carried
    seen = {s for e in dataset.examples if not e.text_only for s in cache.clips[e.clip_id]["streams"]}
    config.trained_streams = sorted(set(config.trained_streams or []) | seen)
    if acc.is_main_process:
        save_trained(out, acc.unwrap_model(model), processor, save_base=recipe.text_model_path is None
                     and not recipe.init_from)
        summary = {"steps": step, "final_loss": last_loss, "seconds": round(elapsed, 2),
                   "tokens_per_s": round(tokens * acc.num_processes / max(elapsed, 1e-9), 1),
                   "examples": len(dataset), "output_dir": str(out)}
        atomic_write_text(out / "train_summary.json", json.dumps(summary, indent=1))
    acc.end_training()
    return {"steps": step, "final_loss": last_loss, "output_dir": str(out)}


def train_from_file(path: str | Path, output_dir: str | None = None, max_steps: int | None = None,
                    resume: bool = True) -> dict[str, Any]:
    """The ``train-llm`` verb: read a YAML recipe, override its ``output_dir`` and ``optim.max_steps``
    when given, and run :func:`train`."""
    recipe = load_recipe(path, {"output_dir": output_dir})
    if max_steps is not None:
        if max_steps < 1:
            raise ConfigError("--max-steps must be at least 1")
        recipe.optim.max_steps = max_steps
    return train(recipe, resume=resume)


def _has_tensorboard() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            return False
    return True
