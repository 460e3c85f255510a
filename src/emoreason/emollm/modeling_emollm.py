"""The multimodal LLM: frozen encoders -> per-stream projectors -> tokens spliced into any HF causal LM.

Features replace the embeddings of placeholder tokens (one placeholder id per stream) with
``masked_scatter``, as transformers' LLaVA does, in one function used by training, scoring and
generation alike, so the layout cannot drift between them.

Importing this module registers ``model_type = "emollm"`` with ``AutoConfig`` and ``AutoModel``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModel, AutoModelForCausalLM, PreTrainedModel
from transformers.activations import ACT2FN

from emoreason.emollm import backbones
from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.encoders import EmoLLMEncoders, load_encoder
from emoreason.errors import ConfigError, ModelError


class StreamProjector(nn.Module):
    """Linear or 2-layer MLP from a stream's grouped feature width into the LLM's hidden size."""

    def __init__(self, in_dim: int, out_dim: int, kind: str = "linear", act: str = "gelu"):
        super().__init__()
        if kind == "linear":
            self.net = nn.Linear(in_dim, out_dim)
        else:
            self.net = nn.Sequential(nn.Linear(in_dim, out_dim), ACT2FN[act], nn.Linear(out_dim, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class EmoLLMPreTrainedModel(PreTrainedModel):
    config_class = EmoLLMConfig
    config: EmoLLMConfig
    base_model_prefix = "emollm"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _no_split_modules = ["LlamaDecoderLayer", "Qwen2DecoderLayer", "MistralDecoderLayer"]

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, StreamProjector):
            init_projector(module, getattr(self.config.text_config, "initializer_range", 0.02))


@torch.no_grad()
def init_projector(module: StreamProjector, std: float) -> None:
    """Weights ~ N(0, std) (the LLM's ``initializer_range``), biases 0."""
    for lin in module.modules():
        if isinstance(lin, nn.Linear):
            nn.init.normal_(lin.weight, std=std)
            nn.init.zeros_(lin.bias)


class EmoLLMForConditionalGeneration(EmoLLMPreTrainedModel):
    """Encoders (optional, frozen) + projectors + a causal LM.

    ``forward(input_ids, attention_mask, labels, features=..., media=...)``: ``features`` maps stream
    names to cached features [B, n_raw, D] (``feature_mask[name]`` [B] bool when some rows lack the
    stream); ``media`` maps encoder names to raw tensors, encoded on the fly.
    """

    def __init__(self, config: EmoLLMConfig, language_model: nn.Module | None = None,
                 encoders: dict[str, nn.Module] | None = None):
        super().__init__(config)
        self.encoders = EmoLLMEncoders(config, towers=encoders)
        hidden = config.hidden_size
        self.projectors = nn.ModuleDict({
            s["name"]: StreamProjector(config.stream_input_dim(s["name"]), hidden,
                                       s.get("projector", "linear"), config.projector_hidden_act)
            for s in config.streams
        })
        self.language_model = language_model if language_model is not None else \
            AutoModelForCausalLM.from_config(config.text_config)
        self.post_init()
        # transformers 5's post_init does not reach _init_weights for these: initialise them here
        # (from_pretrained then overwrites them with the saved weights)
        for proj in self.projectors.values():
            init_projector(proj, getattr(config.text_config, "initializer_range", 0.02))

    # ---- plumbing ----------------------------------------------------------------------------
    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        return self.language_model.get_output_embeddings()

    def train(self, mode: bool = True):
        super().train(mode)
        for tower in self.encoders.towers.values():  # frozen encoders stay in eval (no dropout)
            if not any(p.requires_grad for p in tower.parameters()):
                tower.eval()
        return self

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict | None = None) -> None:
        kwargs = gradient_checkpointing_kwargs or {"use_reentrant": False}
        lm = self.language_model
        if hasattr(lm, "activation_checkpointing_enable"):  # transformers >= 5.x name
            lm.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            lm.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)

    # ---- the splice --------------------------------------------------------------------------
    def project_stream(self, name: str, feats: torch.Tensor) -> torch.Tensor:
        """[B, n_raw, D] cached features -> [B, num_tokens, hidden] (grouping g adjacent tokens -> 1)."""
        s = self.config.stream(name)
        group, n_tok = int(s.get("group", 1)), int(s.get("num_tokens", 1))
        b, n_raw, d = feats.shape
        if n_raw != group * n_tok or d * group != self.config.stream_input_dim(name):
            raise ModelError(f"stream {name!r}: expected features [B, {group * n_tok}, "
                             f"{self.config.stream_input_dim(name) // group}], got {list(feats.shape)}")
        grouped = feats.reshape(b, n_tok, d * group)
        proj = self.projectors[name]
        param = next(proj.parameters())
        return proj(grouped.to(dtype=param.dtype, device=param.device))

    def embed_multimodal(self, input_ids: torch.LongTensor, features: dict[str, torch.Tensor] | None = None,
                         media: dict[str, torch.Tensor] | None = None,
                         feature_mask: dict[str, torch.Tensor] | None = None,
                         audio_lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Input embeddings with every stream's projected features at its placeholder positions."""
        feats = dict(features or {})
        if media:
            feats.update(self.encoders(media, audio_lengths=audio_lengths))
        ids = self.config.placeholder_token_ids
        if not ids:
            raise ModelError("config.placeholder_token_ids is empty: "
                             "run processing_emollm.add_placeholder_tokens")
        embeds = self.get_input_embeddings()(input_ids)
        for s in self.config.streams:
            name = s["name"]
            mask = input_ids == ids[name]
            if name not in feats:
                if not torch.compiler.is_compiling() and bool(mask.any()):
                    raise ModelError(f"input has {name!r} placeholders but no features or media "
                                     "for that stream")
                continue
            x = feats[name]
            if feature_mask is not None and name in feature_mask:
                x = x[feature_mask[name].to(x.device)]
            proj = self.project_stream(name, x).to(embeds.dtype)
            if not torch.compiler.is_compiling():
                n_ph = int(mask.sum())
                if n_ph != proj.shape[0] * proj.shape[1]:
                    raise ModelError(f"stream {name!r}: {n_ph} placeholder tokens but {proj.shape[0]} x "
                                     f"{proj.shape[1]} feature tokens")
            embeds = embeds.masked_scatter(mask.unsqueeze(-1), proj)
        return embeds

    def forward(self, input_ids: torch.LongTensor, attention_mask: torch.Tensor | None = None,
                labels: torch.LongTensor | None = None, features: dict[str, torch.Tensor] | None = None,
                media: dict[str, torch.Tensor] | None = None,
                feature_mask: dict[str, torch.Tensor] | None = None,
                audio_lengths: torch.Tensor | None = None, **kwargs: Any):
        embeds = self.embed_multimodal(input_ids, features, media, feature_mask, audio_lengths)
        return self.language_model(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels,
                                   **kwargs)

    @torch.no_grad()
    def generate(self, input_ids: torch.LongTensor, attention_mask: torch.Tensor | None = None,
                 features: dict[str, torch.Tensor] | None = None,
                 media: dict[str, torch.Tensor] | None = None,
                 feature_mask: dict[str, torch.Tensor] | None = None,
                 audio_lengths: torch.Tensor | None = None, **gen_kwargs: Any) -> torch.LongTensor:
        """Generate from the spliced embeddings; returns only the new tokens."""
        embeds = self.embed_multimodal(input_ids, features, media, feature_mask, audio_lengths)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return self.language_model.generate(inputs_embeds=embeds, attention_mask=attention_mask, **gen_kwargs)

    @torch.no_grad()
    def continuation_log_likelihoods(self, input_ids: torch.LongTensor, continuations: list[list[int]],
                                     features: dict[str, torch.Tensor] | None = None,
                                     media: dict[str, torch.Tensor] | None = None,
                                     reduction: str = "sum") -> torch.Tensor:
        """Log-probability of each continuation after one prompt ([1, L] ids) -> [K]: the sum over its
        tokens (``reduction="sum"``) or the mean per token (``"mean"``, comparable across lengths)."""
        if input_ids.shape[0] != 1:
            raise ValueError("continuation_log_likelihoods scores one prompt at a time")
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        embeds = self.embed_multimodal(input_ids, features, media)
        k, lp = len(continuations), input_ids.shape[1]
        width = max(len(c) for c in continuations)
        cont = torch.zeros(k, width, dtype=torch.long, device=input_ids.device)
        cmask = torch.zeros(k, width, dtype=torch.long, device=input_ids.device)
        for i, c in enumerate(continuations):
            cont[i, : len(c)] = torch.tensor(c, device=input_ids.device)
            cmask[i, : len(c)] = 1
        answers = self.get_input_embeddings()(cont).to(embeds.dtype)
        full = torch.cat([embeds.expand(k, -1, -1), answers], dim=1)
        att = torch.cat([torch.ones(k, lp, dtype=torch.long, device=input_ids.device), cmask], dim=1)
        logits = self.language_model(inputs_embeds=full, attention_mask=att).logits.float()
        logp = logits[:, lp - 1: lp - 1 + width].log_softmax(-1)
        tok = logp.gather(-1, cont.unsqueeze(-1)).squeeze(-1)
        total = (tok * cmask).sum(-1)
        return total / cmask.sum(-1) if reduction == "mean" else total

    # ---- loading -----------------------------------------------------------------------------
    @classmethod
    def from_components(cls, config: EmoLLMConfig, text_model_path: str | None = None,
                        encoder_paths: dict[str, str] | None = None, dtype: torch.dtype | None = None,
                        quantization_config: Any = None) -> EmoLLMForConditionalGeneration:
        """A fresh model around pretrained parts: the LLM from ``text_model_path`` and encoders by path.

        Paths default to ``config.text_model_path`` and each encoder spec's ``path``, and are stored in
        the config resolved (absolute); a packaged backbone's name (:mod:`~emoreason.emollm.backbones`)
        is loaded from its cache folder and stored as the name; an encoder with neither a path nor a
        config reads cached features only. Projectors start random.
        """
        text_model_path = text_model_path or getattr(config, "text_model_path", None)
        if text_model_path and not backbones.is_known(text_model_path, "llm"):
            text_model_path = str(Path(text_model_path).resolve())
        towers: dict[str, nn.Module] = {}
        for name, spec in config.encoders.items():
            path = (encoder_paths or {}).get(name) or spec.get("path")
            if path:
                if not backbones.is_known(path, "audio"):  # a backbone name is kept as the name
                    path = Path(path).resolve()  # stored resolved: the config must work from any folder
                towers[name], _ = load_encoder(str(path))
                width = getattr(towers[name].config, "hidden_size", None)
                if width is not None and int(width) != int(spec["feature_dim"]):
                    raise ConfigError(f"encoder {name!r}: feature_dim is {spec['feature_dim']}, but {path} "
                                      f"gives {width}-d states")
                if dtype is not None:
                    towers[name].to(dtype=dtype)
                spec["path"] = str(path)
                spec["config"] = towers[name].config.to_dict()
        llm = None
        if text_model_path:
            try:
                llm, info = AutoModelForCausalLM.from_pretrained(
                    backbones.llm_path(text_model_path), dtype=dtype, quantization_config=quantization_config,
                    trust_remote_code=False, output_loading_info=True)
            except (OSError, ValueError) as exc:
                raise ModelError(f"cannot load the language model from {text_model_path}: {exc}") from exc
            if info.get("missing_keys"):
                raise ModelError(f"{text_model_path}: language model checkpoint lacks weights: "
                                 f"{describe_loading_problems({'missing_keys': info['missing_keys']})}")
            config.text_config = llm.config
            config.text_model_path = str(text_model_path)
        model = cls(config, language_model=llm, encoders=towers)
        if dtype is not None:
            model.projectors.to(dtype=dtype)
        return model

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args: Any, strict: bool = True, **kwargs: Any):
        """Load a saved model; with ``strict`` (default) any missing, unexpected or mismatched weight is an
        error."""
        want_info = kwargs.pop("output_loading_info", False)
        kwargs.setdefault("trust_remote_code", False)
        try:
            model, info = super().from_pretrained(pretrained_model_name_or_path, *args,
                                                  output_loading_info=True, **kwargs)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{pretrained_model_name_or_path}: checkpoint does not fit the model: "
                             f"{str(exc).splitlines()[0]}") from exc
        problems = describe_loading_problems(info)
        if strict and problems:
            raise ModelError(f"{pretrained_model_name_or_path}: checkpoint does not match the model: "
                             f"{problems}")
        return (model, info) if want_info else model


def describe_loading_problems(info: dict[str, Any]) -> str:
    """One line naming missing / unexpected / mismatched keys in a loading-info dict ('' when clean)."""
    parts = []
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        vals = sorted(str(v) for v in (info.get(key) or []))
        if vals:
            shown = ", ".join(vals[:3]) + (f" (+{len(vals) - 3} more)" if len(vals) > 3 else "")
            parts.append(f"{len(vals)} {key.replace('_', ' ')}: {shown}")
    return "; ".join(parts)


AutoModel.register(EmoLLMConfig, EmoLLMForConditionalGeneration, exist_ok=True)
