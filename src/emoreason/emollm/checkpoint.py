"""Trained-model folders: what training writes, and how inference, merging and stage 2 read it back.

Layout of a folder written by ``train-llm``::

    config.json            EmoLLMConfig (streams, encoders, placeholder ids, text_model_path)
    tokenizer files        the tokenizer with the placeholder tokens added
    base/                  the full base model, only when it does not come from paths (random init)
    adapter/               peft LoRA weights + the projectors (modules_to_save), safetensors
    model.safetensors      instead of base/ + adapter/: a full (e.g. LoRA-merged) model

A folder without tokenizer files whose LLM is a packaged backbone (``text_model_path`` a name such as
``smollm2-135m-instruct``) takes the backbone's tokenizer and adds the placeholder tokens, which must get
the ids the config records. That is the layout of the shipped **compact** model
(``emoreason/assets/emollm_compact``: ``config.json``, ``adapter/``, ``export.json``), written from a
trained run by :func:`export_compact` and named ``"compact"`` (:func:`resolve_model`).

Loading is strict everywhere: a missing or unexpected weight raises :class:`~emoreason.errors.ModelError`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from peft import PeftModel
from transformers import AutoTokenizer

from emoreason.assets import asset_path, publish_folder, sha256_file
from emoreason.emollm import backbones
from emoreason.emollm.configuration_emollm import COMPUTED_KINDS, EmoLLMConfig
from emoreason.emollm.lora import ADAPTER_WEIGHTS, load_adapter, merge_lora
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
from emoreason.emollm.processing_emollm import EmoLLMProcessor, add_placeholder_tokens
from emoreason.errors import ConfigError, ModelError


def prepare_placeholders(model: EmoLLMForConditionalGeneration, tokenizer) -> None:
    """Add the placeholder tokens, resize the LLM, and zero the new rows so a reload is deterministic."""
    old = model.get_input_embeddings().weight.shape[0]
    add_placeholder_tokens(tokenizer, model.config, model)
    new = model.get_input_embeddings().weight.shape[0]
    if new > old:
        with torch.no_grad():
            model.get_input_embeddings().weight[old:] = 0
            out = model.get_output_embeddings()
            if out is not None and out.weight.shape[0] == new:
                out.weight[old:] = 0


def has_full_weights(path: Path) -> bool:
    """True when ``path`` holds a whole model (``model.safetensors``, possibly sharded)."""
    return (path / "model.safetensors").is_file() or (path / "model.safetensors.index.json").is_file()


def load_tokenizer(path: str | Path):
    """The tokenizer saved in ``path``; a folder without one is a ``ModelError``."""
    try:
        return AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load a tokenizer from {path}: {str(exc).splitlines()[0]}") from None


def _has_tokenizer(path: Path) -> bool:
    return (path / "tokenizer_config.json").is_file() or (path / "tokenizer.json").is_file()


def folder_tokenizer(path: Path):
    """The tokenizer saved in ``path``, else that of the packaged LLM backbone the folder's config names."""
    if _has_tokenizer(path):
        return load_tokenizer(path)
    name = EmoLLMConfig.from_pretrained(str(path)).text_model_path
    if not backbones.is_known(name, "llm"):
        raise ModelError(f"{path} has no tokenizer, and its LLM ({name!r}) is not a packaged backbone to "
                         "take one from")
    return load_tokenizer(backbones.llm_path(name))


def load_trained(path: str | Path, is_trainable: bool = False,
                 dtype: torch.dtype | None = None) -> tuple[Any, EmoLLMProcessor]:
    """Model (a peft model when the folder has an adapter) and processor from a trained folder."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise ModelError(f"{path} is not an emollm model folder (no config.json)")
    tokenizer = folder_tokenizer(path)
    if has_full_weights(path):
        model = EmoLLMForConditionalGeneration.from_pretrained(str(path), dtype=dtype)
    elif (path / "base").is_dir():
        model = EmoLLMForConditionalGeneration.from_pretrained(str(path / "base"), dtype=dtype)
    else:
        config = EmoLLMConfig.from_pretrained(str(path))
        if not config.text_model_path:
            raise ModelError(f"{path}: has neither full weights, base/, nor a text_model_path to build from")
        ids = dict(config.placeholder_token_ids)
        model = EmoLLMForConditionalGeneration.from_components(config, dtype=dtype)
        prepare_placeholders(model, tokenizer)
        if model.config.placeholder_token_ids != ids:
            raise ModelError(f"{path}: the tokenizer's placeholder ids {model.config.placeholder_token_ids} "
                             f"differ from the config's {ids}")
    if model.get_input_embeddings().weight.shape[0] < len(tokenizer):
        raise ModelError(f"{path}: the model's vocabulary ({model.get_input_embeddings().weight.shape[0]}) "
                         f"is smaller than the tokenizer's ({len(tokenizer)})")
    if (path / "adapter").is_dir():
        model = load_adapter(model, path / "adapter", is_trainable=is_trainable)
    processor = EmoLLMProcessor(tokenizer, core_model(model).config)
    return model, processor


def core_model(model: Any) -> EmoLLMForConditionalGeneration:
    """The EmoLLM model inside a peft wrapper (or the model itself)."""
    inner = model
    while not isinstance(inner, EmoLLMForConditionalGeneration):
        nxt = getattr(inner, "base_model", None) or getattr(inner, "model", None)
        if nxt is None or nxt is inner:
            raise ModelError(f"not an emollm model: {type(model).__name__}")
        inner = nxt
    return inner


def save_trained(out_dir: str | Path, model: Any, processor: EmoLLMProcessor, save_base: bool) -> None:
    """Write config, tokenizer, adapter (when LoRA), and the base model when it cannot be rebuilt from
    paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    core = core_model(model)
    core.config.save_pretrained(str(out))
    processor.tokenizer.save_pretrained(str(out))
    if isinstance(model, PeftModel):
        model.save_pretrained(str(out / "adapter"), safe_serialization=True)
        if save_base and not (out / "base").is_dir():
            raise ModelError(f"{out}: the random-init base model must be saved to base/ before training")
    else:
        core.save_pretrained(str(out), safe_serialization=True)


def merge_trained(model_dir: str | Path, output_dir: str | Path) -> Path:
    """Fold a trained folder's LoRA adapter into the model and write the whole model (safetensors) and
    its tokenizer to ``output_dir`` (the ``merge-lora`` verb). A folder without an adapter is an error."""
    model, processor = load_trained(model_dir, is_trainable=False)
    if not isinstance(model, PeftModel):
        raise ConfigError(f"{model_dir} has no LoRA adapter to merge")
    merged = merge_lora(model)
    merged.save_pretrained(str(output_dir), safe_serialization=True)
    processor.tokenizer.save_pretrained(str(output_dir))
    return Path(output_dir)


# ---- the shipped compact model -------------------------------------------------------------------
#: The name that stands for the shipped compact model (``--model compact``).
COMPACT = "compact"
#: Adapter weights larger than this (bytes, in fp32) are shipped in fp16 (cast back to fp32 on loading).
MAX_FP32_BYTES = 6_000_000


def compact_dir() -> Path:
    """Where the shipped compact model lives: ``emoreason/assets/emollm_compact``."""
    return asset_path("emollm_compact")


def resolve_model(model: str | Path) -> Path:
    """A model folder: ``"compact"`` is the shipped compact model (a ``ModelError`` when it is not
    installed); anything else is taken as a path. The name wins over a folder called ``compact``."""
    if str(model) == COMPACT:
        folder = compact_dir()
        if not (folder / "config.json").is_file():
            raise ModelError(f"the compact model is not installed ({folder} has no config.json); "
                             "reinstall emoreason with ./install.sh, or give a trained model folder")
        return folder
    return Path(model)


def _check_shippable(run: Path, config: EmoLLMConfig) -> None:
    if not (run / "adapter" / ADAPTER_WEIGHTS).is_file() or (run / "base").is_dir() or has_full_weights(run):
        raise ConfigError(f"{run}: only a LoRA run around a packaged LLM can be exported (it needs adapter/ "
                          "and no base/ or full weights)")
    if not backbones.is_known(config.text_model_path, "llm"):
        raise ConfigError(f"{run}: its LLM ({config.text_model_path!r}) is not a packaged backbone name, so "
                          "another machine could not find it")
    for name, spec in config.encoders.items():
        if spec["kind"] not in COMPUTED_KINDS and spec.get("path") and \
                not backbones.is_known(spec["path"], "audio"):
            raise ConfigError(f"{run}: encoder {name!r} comes from a local folder ({spec['path']}), not a "
                              "packaged backbone")


def _forget_local_paths(config: EmoLLMConfig) -> None:
    """Drop the folders of this machine that transformers records (``_name_or_path``) from a config that
    is to be shipped: the backbones are found by name."""
    config._name_or_path = ""
    config.text_config._name_or_path = config.text_model_path
    for spec in config.encoders.values():
        if isinstance(spec.get("config"), dict):
            spec["config"].pop("_name_or_path", None)


def export_compact(run_dir: str | Path, out_dir: str | Path, max_fp32_bytes: int = MAX_FP32_BYTES) -> Path:
    """Write a trained run (LoRA around a packaged LLM, encoders packaged or computed) as a shippable
    folder: ``config.json``, ``adapter/`` (LoRA + projectors, safetensors; fp16 when the fp32 weights
    exceed ``max_fp32_bytes``) and ``export.json`` (the weights' dtype, size and SHA-256). The tokenizer is
    not copied: it comes from the backbone. The folder is checked by loading it strictly, then renamed
    into place (a failed export leaves ``out_dir`` as it was)."""
    run, out = Path(run_dir), Path(out_dir)
    if not (run / "config.json").is_file():
        raise ConfigError(f"{run} is not a trained emollm run (no config.json)")
    config = EmoLLMConfig.from_pretrained(str(run))
    _check_shippable(run, config)
    state = safetensors.torch.load_file(str(run / "adapter" / ADAPTER_WEIGHTS))
    fp32_bytes = sum(t.numel() * 4 for t in state.values() if t.is_floating_point())
    half = fp32_bytes > max_fp32_bytes
    state = {k: (t.to(torch.float16) if half and t.is_floating_point() else t.float() if t.is_floating_point()
                 else t).contiguous() for k, t in state.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _forget_local_paths(config)
        config.save_pretrained(str(tmp))
        (tmp / "adapter").mkdir()
        adapter_cfg = json.loads((run / "adapter" / "adapter_config.json").read_text(encoding="utf-8"))
        adapter_cfg.update(base_model_name_or_path=config.text_model_path, inference_mode=True)
        (tmp / "adapter" / "adapter_config.json").write_text(json.dumps(adapter_cfg, indent=2),
                                                             encoding="utf-8")
        safetensors.torch.save_file(state, str(tmp / "adapter" / ADAPTER_WEIGHTS))
        load_trained(tmp)  # strict: every LoRA and projector weight must fit
        weights = tmp / "adapter" / ADAPTER_WEIGHTS
        for f in (tmp / "config.json", tmp / "adapter" / "adapter_config.json", weights):
            f.chmod(0o644)
        publish_folder(tmp, out, {"from_run": run.name, "llm": config.text_model_path,
                                  "dtype": "float16" if half else "float32", "fp32_bytes": fp32_bytes,
                                  "bytes": weights.stat().st_size, "sha256": sha256_file(weights)},
                       "export.json")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
