"""Frozen media encoders and the features each token stream reads from them.

Any HF checkpoint of the right family works: frame (CLIP / SigLIP / ViT vision towers), face crops
(ViT / ViT-MAE), temporal (VideoMAE) and audio (HuBERT / wav2vec2 / Whisper encoder). A stream's
*features* are the encoder states it selects (patches, CLS or a mean), before grouping and projection;
the feature cache stores exactly these, so training and inference see the same numbers.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel

from emoreason.emollm import backbones
from emoreason.errors import ModelError

#: Model types whose first output token is a CLS token.
_HAS_CLS = {"clip_vision_model", "clip", "vit", "vit_mae", "dinov2", "deit", "beit", "data2vec-vision"}
#: Composite models whose vision tower is used alone.
_VISION_OF = {"clip": "vision_model", "siglip": "vision_model", "siglip2": "vision_model"}


def _unwrap(model: nn.Module, model_type: str) -> nn.Module:
    if model_type in _VISION_OF:
        return getattr(model, _VISION_OF[model_type])
    if model_type == "whisper":
        return model.get_encoder()
    return model


def build_encoder(spec: dict[str, Any]) -> nn.Module | None:
    """Random-weight encoder from ``spec["config"]`` (or ``None`` when the stream reads cached features)."""
    if not spec.get("config"):
        return None
    cfg_dict = dict(spec["config"])
    cfg = AutoConfig.for_model(**cfg_dict)
    if cfg.model_type == "vit_mae":
        cfg.mask_ratio = 0.0  # feature extraction sees every patch
    return _unwrap(AutoModel.from_config(cfg), cfg.model_type)


def load_encoder(path: str) -> tuple[nn.Module, str]:
    """Load a pretrained encoder from a local HF folder, or a packaged audio backbone by name (e.g.
    ``whisper-tiny-en``, see :mod:`~emoreason.emollm.backbones`); missing weights are an error, never
    random."""
    if backbones.is_known(path, "audio"):
        return backbones.load_audio_encoder(path)
    backbones.path_or_name(path, "audio")  # neither a folder nor a name: the error lists the names
    try:
        cfg = AutoConfig.from_pretrained(path, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read an encoder config in {path}: {exc}") from exc
    if cfg.model_type == "vit_mae":
        cfg.mask_ratio = 0.0
    model, info = AutoModel.from_pretrained(path, config=cfg, trust_remote_code=False,
                                            output_loading_info=True)
    missing = list(info.get("missing_keys", []))
    if missing:
        raise ModelError(f"encoder checkpoint {path} lacks {len(missing)} weights (first: {missing[0]})")
    return _unwrap(model, cfg.model_type), cfg.model_type


def _states(model: nn.Module, layer: int, **inputs: Any):
    out = model(**inputs, output_hidden_states=layer != -1, return_dict=True)
    hidden = out.last_hidden_state if layer == -1 else out.hidden_states[layer]
    return hidden, getattr(out, "pooler_output", None)


class EncoderTower(nn.Module):
    """One frozen encoder plus the rules for turning its states into stream features."""

    def __init__(self, name: str, spec: dict[str, Any], model: nn.Module, model_type: str):
        super().__init__()
        self.name, self.kind = name, spec["kind"]
        self.layer = int(spec.get("layer", -1))
        self.model = model
        self.model_type = model_type
        self.has_cls = model_type in _HAS_CLS

    def encode(self, inputs: torch.Tensor, lengths: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Return ``tokens`` [B, F, N, D] (F frames, 1 for audio/temporal), ``valid`` [B, N] and
        ``pooled``."""
        kind = self.kind
        extra: dict[str, Any] = {}
        if kind in ("frame", "face"):
            if inputs.dim() == 4:
                inputs = inputs.unsqueeze(1)
            b, f = inputs.shape[:2]
            flat = inputs.flatten(0, 1)
            if self.model_type == "vit_mae":  # keep patch order: increasing noise = identity shuffle
                n = (flat.shape[-1] // self.model.config.patch_size) ** 2
                noise = torch.arange(n, dtype=flat.dtype, device=flat.device)
                extra["noise"] = noise.expand(flat.shape[0], n)
            hidden, pooled = _states(self.model, self.layer, pixel_values=flat, **extra)
            tokens = hidden.unflatten(0, (b, f))
            pooled = pooled.unflatten(0, (b, f)) if pooled is not None else None
            valid = torch.ones(tokens.shape[0], tokens.shape[2], dtype=torch.bool, device=tokens.device)
            return {"tokens": tokens, "valid": valid, "pooled": pooled}
        if kind == "temporal":
            hidden, _ = _states(self.model, self.layer, pixel_values=inputs)
        elif self.model_type == "whisper":
            hidden, _ = _states(self.model, self.layer, input_features=inputs)
        else:
            hidden, _ = _states(self.model, self.layer, input_values=inputs)
        tokens = hidden.unsqueeze(1)
        n = hidden.shape[1]
        valid = torch.ones(hidden.shape[0], n, dtype=torch.bool, device=hidden.device)
        if kind == "audio" and lengths is not None:
            valid = torch.arange(n, device=hidden.device)[None, :] < self._frames(lengths, n)[:, None]
        return {"tokens": tokens, "valid": valid, "pooled": None}

    def _frames(self, lengths: torch.Tensor, n: int) -> torch.Tensor:
        if self.model_type == "whisper":  # 2 conv strides over 160-sample hops: 320 samples a frame
            return torch.clamp((lengths + 319) // 320, 1, n)
        fn = getattr(self.model, "_get_feat_extract_output_lengths", None)
        if fn is None:
            return torch.full_like(lengths, n)
        return torch.clamp(fn(lengths), 1, n)

    def select(self, enc: dict[str, torch.Tensor], mode: str) -> torch.Tensor:
        """Stream features [B, n, D] for one select mode (``patches``, ``cls``, ``mean``)."""
        tokens, valid = enc["tokens"], enc["valid"]
        if mode == "patches":
            patches = tokens[:, :, 1:] if self.has_cls else tokens
            return patches.mean(1)  # several frames: average the grids
        if mode == "cls":
            if self.has_cls:
                return tokens[:, :, 0].mean(1, keepdim=True)
            if enc.get("pooled") is not None:
                return enc["pooled"].mean(1, keepdim=True)
            raise ModelError(f"encoder {self.name!r} ({self.model_type}) has no CLS or pooled token")
        w = valid[:, None, :, None].to(tokens.dtype)
        summed = (tokens * w).sum(dim=(1, 2))
        count = w.sum(dim=(1, 2)).clamp(min=1.0) * 1.0
        return (summed / count).unsqueeze(1)


class EmoLLMEncoders(nn.Module):
    """All configured encoders; ``forward`` maps media tensors to per-stream features."""

    def __init__(self, config, towers: dict[str, nn.Module] | None = None):
        super().__init__()
        self.streams = [dict(s) for s in config.streams]
        self.towers = nn.ModuleDict()
        for name, spec in config.encoders.items():
            model = (towers or {}).get(name)
            model_type = getattr(getattr(model, "config", None), "model_type", None)
            if model is None:
                model = build_encoder(spec)
                model_type = spec["config"]["model_type"] if model is not None else None
            if model is not None:
                self.towers[name] = EncoderTower(name, spec, model, str(model_type))
                if spec.get("frozen", True):
                    self.towers[name].requires_grad_(False)

    def forward(self, media: dict[str, torch.Tensor],
                audio_lengths: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``media``: encoder name -> pixel values / waveforms. Returns stream name -> features."""
        encoded: dict[str, dict[str, torch.Tensor]] = {}
        for name, x in media.items():
            if name not in self.towers:
                raise ModelError(f"no encoder weights for {name!r}: this model only reads cached features")
            tower = self.towers[name]
            trainable = any(p.requires_grad for p in tower.parameters())
            ctx = torch.enable_grad() if trainable else torch.no_grad()
            with ctx:
                encoded[name] = tower.encode(x, audio_lengths if tower.kind == "audio" else None)
        feats: dict[str, torch.Tensor] = {}
        for s in self.streams:
            if s["encoder"] in encoded:
                feats[s["name"]] = self.towers[s["encoder"]].select(encoded[s["encoder"]], s["select"])
        return feats
