"""A BERT encoder (MiniLM: all-MiniLM-L6-v2) run in numpy, with its tokenizer from ``tokenizer.json``.

The text stage's inference path: no torch, transformers or sentence-transformers. :class:`NumpyBert`
reads ``config.json`` and ``model.safetensors`` of a Hugging Face ``BertModel`` folder and computes what
``BertModel(...).hidden_states`` does in eval mode: word + position + token-type embeddings and
LayerNorm, then per layer multi-head self-attention (padding keys masked out), a residual LayerNorm, the
GELU feed-forward (erf from a float32 rational approximation, :func:`erf32`) and another residual
LayerNorm, all in float32. :meth:`NumpyBert.merged`
returns a copy whose linear layers have LoRA adapters folded in (``W + (alpha / r) * B @ A``, the
convention of peft's ``LoraLayer`` without rsLoRA and of :mod:`emoreason.perception.text.lora`). Bias
adds, residuals, LayerNorm and GELU work in place (the same float32 operations in the same order as
out of place, so the same numbers). :mod:`emoreason.perception.text.batching` cuts a call's encodings into
batches and runs them on two threads.

:func:`tokenizer` loads the folder's ``tokenizer.json`` with the ``tokenizers`` library (the backend that
transformers' fast BERT tokenizer wraps: same lower-casing, ``[CLS]``/``[SEP]`` template and
longest-first truncation), with the file's fixed padding turned off; :func:`encode_batch` pads a batch to
its longest member.

Why numpy and not onnxruntime (``benchmarks/bench_text.py --ort``, 2-core machine, 2026-12-05): onnxruntime
ran the MiniLM forward 1.3-1.4x faster, but needs a graph file that the project would have to export with
torch and ship (the ``onnx`` package is no dependency) and takes 0.22 s per session to create (four
networks: about 0.9 s of start-up), where the numpy base loads once in 0.18 s and each member is a merge.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from emoreason.errors import ModelError

_MASKED = np.float32(np.finfo(np.float32).min)  # added to the scores of padding keys, as BERT does
_lock = threading.Lock()


@dataclass(frozen=True)
class BertConfig:
    layers: int
    heads: int
    hidden: int
    eps: float
    max_positions: int


class NumpyBert:
    """``hidden_states(ids, mask, types)`` -> ``[embeddings, layer 1, ..., layer n]``, each ``(B, L, H)``."""

    def __init__(self, config: BertConfig, weights: dict[str, np.ndarray]):
        self.config = config
        self.w = weights  # linear weights stored transposed, (in, out); q, k and v side by side

    @classmethod
    def load(cls, folder: str | Path) -> NumpyBert:
        """The base model of ``folder`` (loaded once per folder and process; treat it as read-only)."""
        return _load_cached(str(Path(folder).resolve()))

    def merged(self, adapters: dict[str, tuple[np.ndarray, np.ndarray]], scale: float) -> NumpyBert:
        """A copy with ``{"<layer>.<linear>": (A (r, in), B (out, r))}`` folded into the named linear layers
        (names as in :data:`emoreason.perception.text.lora.ADAPTED`, e.g. ``"0.attention.self.query"``);
        the other arrays are shared with ``self``."""
        w = dict(self.w)
        h = self.config.hidden
        for name, (a, b) in adapters.items():
            layer, linear = name.split(".", 1)
            delta = (scale * (b.astype(np.float32) @ a.astype(np.float32))).T  # (in, out)
            if linear.startswith("attention.self."):
                k = ("query", "key", "value").index(linear.rsplit(".", 1)[1])
                key = f"{layer}.qkv.w"
                w[key] = w[key].copy() if w[key] is self.w[key] else w[key]
                w[key][:, k * h:(k + 1) * h] += delta
            else:
                key = f"{layer}.{OTHER_LINEARS[linear]}.w"
                w[key] = np.ascontiguousarray(w[key] + delta)
        return NumpyBert(self.config, w)

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray,
                      last_rows: int | None = None) -> list[np.ndarray]:
        """All layers' states; with ``last_rows`` the last layer is computed for the first ``last_rows``
        positions only (its keys and values still come from every position), ``(B, last_rows, H)``: what a
        caller pooling only those positions needs, the same numbers for them."""
        c, w = self.config, self.w
        n, length = ids.shape
        if length > c.max_positions:
            raise ModelError(f"{length} tokens exceed the model's {c.max_positions} positions")
        x = w["word"][ids]
        x += w["position"][:length][None]
        x += w["type"][types]
        x = _layer_norm(x, w["emb.ln.g"], w["emb.ln.b"], c.eps)
        out = [x]
        bias = np.where(mask[:, None, None, :] > 0, np.float32(0), _MASKED)  # (B, 1, 1, L)
        hd = c.hidden // c.heads
        for i in range(c.layers):
            rows = length if last_rows is None or i < c.layers - 1 else min(length, max(1, last_rows))
            flat = x.reshape(n * length, c.hidden)
            if rows == length:
                qkv = flat @ w[f"{i}.qkv.w"]
                qkv += w[f"{i}.qkv.b"]
                qkv = qkv.reshape(n, length, 3, c.heads, hd)
                q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
            else:  # queries (and everything after attention) only for the rows kept
                h, qkv_w, qkv_b = c.hidden, w[f"{i}.qkv.w"], w[f"{i}.qkv.b"]
                kv = flat @ qkv_w[:, h:]
                kv += qkv_b[h:]
                kv = kv.reshape(n, length, 2, c.heads, hd)
                k, v = (kv[:, :, j].transpose(0, 2, 1, 3) for j in range(2))
                flat = np.ascontiguousarray(x[:, :rows]).reshape(n * rows, h)
                q = flat @ qkv_w[:, :h]
                q += qkv_b[:h]
                q = q.reshape(n, rows, c.heads, hd).transpose(0, 2, 1, 3)
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= np.float32(1.0 / np.sqrt(hd))  # in place: the same operations, fewer temporaries
            scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n * rows, c.hidden)
            att = ctx @ w[f"{i}.ao.w"]
            att += w[f"{i}.ao.b"]
            att += flat
            att = _layer_norm(att, w[f"{i}.ao.ln.g"], w[f"{i}.ao.ln.b"], c.eps)
            inter = att @ w[f"{i}.in.w"]
            inter += w[f"{i}.in.b"]
            inter = _gelu(inter)
            ff = inter @ w[f"{i}.out.w"]
            ff += w[f"{i}.out.b"]
            ff += att
            x = _layer_norm(ff, w[f"{i}.out.ln.g"], w[f"{i}.out.ln.b"], c.eps).reshape(n, rows, -1)
            out.append(x)
        return out


# the linear layers outside self-attention, by their attribute path inside a BertLayer
OTHER_LINEARS = {"attention.output.dense": "ao", "intermediate.dense": "in", "output.dense": "out"}


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, in place (``x`` is overwritten and returned)."""
    x -= x.mean(axis=-1, keepdims=True)
    var = np.mean(np.square(x), axis=-1, keepdims=True)
    x /= np.sqrt(var + np.float32(eps))
    x *= g
    x += b
    return x


# GELU works through its array in pieces of this many values, each piece's temporaries reused: the
# same float32 operations in the same order as on the whole array, about half the time (fewer allocations,
# temporaries that stay in cache)
GELU_BLOCK = 65536


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact GELU, ``x * (1 + erf(x / sqrt(2))) / 2`` (BERT's ``"gelu"``), in place (``x`` contiguous)."""
    flat = x.reshape(-1)
    size = min(GELU_BLOCK, flat.size)
    t, x2, p, q = (np.empty(size, np.float32) for _ in range(4))
    for start in range(0, flat.size, GELU_BLOCK):
        piece = flat[start:start + GELU_BLOCK]
        m = piece.size
        e = np.multiply(piece, np.float32(0.7071067811865476), out=t[:m])
        _erf_in_place(e, x2[:m], p[:m], q[:m])
        e += np.float32(1.0)
        e *= np.float32(0.5)
        piece *= e
    return x


# erf(x) = x * P(x**2) / Q(x**2) on [-4, 4] (outside it erf is +-1 in float32): the single-precision rational
# approximation of Eigen and XLA; error below 4e-7 against math.erf (tests), half of scipy.special.erf's time
# here, and no scipy import (0.1-0.4 s) on the text path
_ERF_P = tuple(np.float32(c) for c in (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                                       -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                                       -1.60960333262415e-02))
_ERF_Q = tuple(np.float32(c) for c in (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                                       -7.37332916720468e-03, -1.42647390514189e-02))


def erf32(x: np.ndarray) -> np.ndarray:
    """The error function of a float32 array (a new array)."""
    out = np.array(x, dtype=np.float32)
    flat = out.reshape(-1)
    scratch = (np.empty_like(flat) for _ in range(3))
    return _erf_in_place(flat, *scratch).reshape(out.shape)


def _erf_in_place(x: np.ndarray, x2: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """erf of the 1-D float32 array ``x``, written over it (``x2``, ``p``, ``q``: scratch of its size)."""
    np.minimum(x, np.float32(4.0), out=x)
    np.maximum(x, np.float32(-4.0), out=x)
    np.multiply(x, x, out=x2)
    np.multiply(x2, _ERF_P[0], out=p)
    p += _ERF_P[1]
    for c in _ERF_P[2:]:
        p *= x2
        p += c
    x *= p
    np.multiply(x2, _ERF_Q[0], out=q)
    q += _ERF_Q[1]
    for c in _ERF_Q[2:]:
        q *= x2
        q += c
    x /= q
    return x


@lru_cache(maxsize=4)
def _load_cached(folder_str: str) -> NumpyBert:
    folder = Path(folder_str)
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if cfg.get("model_type", "bert") != "bert" or cfg.get("hidden_act", "gelu") != "gelu":
            raise ValueError("not a BERT model with the exact GELU")
        if cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are supported")
        config = BertConfig(int(cfg["num_hidden_layers"]), int(cfg["num_attention_heads"]),
                            int(cfg["hidden_size"]), float(cfg.get("layer_norm_eps", 1e-12)),
                            int(cfg["max_position_embeddings"]))
        t = load_file(str(folder / "model.safetensors"))
        t = {k.removeprefix("bert."): v for k, v in t.items()}

        def get(name: str) -> np.ndarray:
            return np.asarray(t[name], dtype=np.float32)

        w = {"word": get("embeddings.word_embeddings.weight"),
             "position": get("embeddings.position_embeddings.weight"),
             "type": get("embeddings.token_type_embeddings.weight"),
             "emb.ln.g": get("embeddings.LayerNorm.weight"), "emb.ln.b": get("embeddings.LayerNorm.bias")}
        for i in range(config.layers):
            p = f"encoder.layer.{i}."
            sa = [f"{p}attention.self.{k}" for k in ("query", "key", "value")]
            w[f"{i}.qkv.w"] = np.ascontiguousarray(np.concatenate([get(s + ".weight").T for s in sa], axis=1))
            w[f"{i}.qkv.b"] = np.concatenate([get(s + ".bias") for s in sa])
            for linear, short in OTHER_LINEARS.items():
                w[f"{i}.{short}.w"] = np.ascontiguousarray(get(f"{p}{linear}.weight").T)
                w[f"{i}.{short}.b"] = get(f"{p}{linear}.bias")
            for short, ln in (("ao", "attention.output.LayerNorm"), ("out", "output.LayerNorm")):
                w[f"{i}.{short}.ln.g"], w[f"{i}.{short}.ln.b"] = get(f"{p}{ln}.weight"), get(f"{p}{ln}.bias")
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"cannot read the BERT model under {folder}: {exc}") from None
    return NumpyBert(config, w)


@lru_cache(maxsize=8)
def tokenizer(folder: str | Path, max_length: int):
    """The folder's ``tokenizer.json`` (a ``tokenizers.Tokenizer``), truncating longest-first to
    ``max_length`` tokens, unpadded."""
    from tokenizers import Tokenizer

    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        raise ModelError(f"no tokenizer.json under {folder}")
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length, strategy="longest_first", direction="right")
    return tok


def encode_batch(tok, texts: list[str], pairs: list[str] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(input_ids, attention_mask, token_type_ids)``, int64 ``(n, longest)``, padded with 0."""
    return pad_encodings(encode_texts(tok, texts, pairs))


def encode_texts(tok, texts: list[str], pairs: list[str] | None = None) -> list:
    """The ``tokenizers`` encodings of ``texts`` (each with its ``pairs`` entry as second segment)."""
    inputs = list(zip(texts, pairs)) if pairs is not None else list(texts)
    with _lock:
        return tok.encode_batch(inputs)


def pad_encodings(encs: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Encodings as ``(input_ids, attention_mask, token_type_ids)``, int64 ``(n, longest)``, padded with 0."""
    length = max(len(e.ids) for e in encs)
    ids, mask, types = (np.zeros((len(encs), length), np.int64) for _ in range(3))
    for r, e in enumerate(encs):
        n = len(e.ids)
        ids[r, :n], mask[r, :n], types[r, :n] = e.ids, e.attention_mask, e.type_ids
    return ids, mask, types
