"""Training recipes (YAML) for the multimodal LLM, validated into a dataclass.

A recipe names the data, the feature cache, the model (an EmoLLM config plus where the LLM and the
tokenizer come from), LoRA, the optimiser and schedule, and runtime switches. Unknown keys are an
error, so a typo never silently falls back to a default. See ``configs/emollm/*.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from emoreason.emollm.instructions import MERR_LABEL_WORDS
from emoreason.errors import ConfigError


@dataclass
class LoraRecipe:
    r: int = 64
    alpha: int = 16
    dropout: float = 0.05
    targets: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    load_in_4bit: bool = False  # QLoRA: needs bitsandbytes and a CUDA GPU


@dataclass
class OptimRecipe:
    lr: float = 1e-5
    min_lr: float = 1e-6
    weight_decay: float = 0.05
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    schedule: str = "cosine"  # cosine (linear warm-up, then cosine to min_lr) | constant
    warmup_steps: int = 0
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 1
    grad_accum: int = 1
    max_grad_norm: float = 1.0


@dataclass
class TrainRecipe:
    name: str
    stage: str  # coarse | fine
    data: list[str]
    feature_cache: str
    output_dir: str
    model_config: dict[str, Any] = field(default_factory=dict)  # EmoLLMConfig kwargs (encoders, streams ...)
    #: the LLM's local HF folder or a packaged backbone name (emollm.backbones, e.g. smollm2-135m-instruct);
    #: None: random init from model_config
    text_model_path: str | None = None
    tokenizer_path: str | None = None  # defaults to text_model_path; "wordlevel": train one on the data
    init_from: str | None = None  # a previous stage's output folder (adapter and projectors continue)
    labels_file: str | None = None
    subtitles_file: str | None = None
    tasks: list[str] = field(default_factory=lambda: ["emotion", "reason"])
    lora: LoraRecipe | None = field(default_factory=LoraRecipe)
    optim: OptimRecipe = field(default_factory=OptimRecipe)
    max_length: int = 1024
    bf16: bool = False
    gradient_checkpointing: bool = False
    bucket_by_length: bool = True
    seed: int = 0
    log_every: int = 10
    save_every: int = 500
    keep_checkpoints: int = 2  # step-N folders kept (newest); each holds trainable weights + optimizer state
    tensorboard: bool = True
    dataloader_workers: int = 0

    @property
    def label_words(self) -> list[str]:
        """The answer words (``model_config.label_words``, MERR's nine by default): the data's labels are
        written in them and the recognition instruction lists them."""
        return list(self.model_config.get("label_words") or MERR_LABEL_WORDS)


def _build(cls, raw: dict[str, Any], where: str):
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    out = dict(raw)
    for key, value in raw.items():  # YAML 1.1 reads "1e-5" as a string: accept it as a number
        kind = str(known[key].type)
        if isinstance(value, str) and kind.startswith(("float", "int")):
            try:
                out[key] = float(value) if kind.startswith("float") else int(value)
            except ValueError:
                raise ConfigError(f"{where}.{key}: expected a number, got {value!r}") from None
    return out


def recipe_from_dict(raw: dict[str, Any], where: str = "recipe") -> TrainRecipe:
    """Validate a recipe dict (unknown keys, stage, schedule, required fields) into a :class:`TrainRecipe`."""
    raw = dict(_build(TrainRecipe, raw, where))
    lora = raw.get("lora", {})
    raw["lora"] = None if lora is None else LoraRecipe(**_build(LoraRecipe, dict(lora), f"{where}.lora"))
    raw["optim"] = OptimRecipe(**_build(OptimRecipe, dict(raw.get("optim", {})), f"{where}.optim"))
    missing = [k for k in ("name", "stage", "data", "feature_cache", "output_dir") if k not in raw]
    if missing:
        raise ConfigError(f"{where}: missing required key(s): {', '.join(missing)}")
    if isinstance(raw["data"], str):
        raw["data"] = [raw["data"]]
    recipe = TrainRecipe(**raw)
    if recipe.stage not in ("coarse", "fine"):
        raise ConfigError(f"{where}: stage must be coarse or fine, got {recipe.stage!r}")
    if recipe.optim.schedule not in ("cosine", "constant"):
        raise ConfigError(f"{where}: optim.schedule must be cosine or constant, "
                          f"got {recipe.optim.schedule!r}")
    if recipe.keep_checkpoints < 1:
        raise ConfigError(f"{where}: keep_checkpoints must be at least 1, got {recipe.keep_checkpoints}")
    bad = [t for t in recipe.tasks if t not in ("emotion", "reason")]
    if bad or not recipe.tasks:
        raise ConfigError(f"{where}: tasks must be a non-empty subset of emotion, reason "
                          f"(got {recipe.tasks})")
    return recipe


def read_recipe_mapping(path: str | Path) -> dict[str, Any]:
    """A recipe file's raw YAML mapping; a missing file or malformed YAML is a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such recipe file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a recipe is a mapping of keys to values")
    return raw


def load_recipe(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainRecipe:
    """Read a YAML recipe; relative paths in it are taken relative to the current directory."""
    path = Path(path)
    raw = read_recipe_mapping(path)
    for key, value in (overrides or {}).items():
        if value is not None:
            raw[key] = value
    return recipe_from_dict(raw, str(path))
