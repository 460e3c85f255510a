"""A small attention-pooling classifier on Whisper encoder frames, evaluated in numpy.

Each 20 ms encoder state (384 values for tiny.en) is standardised with the training frames' statistics,
projected to ``H`` units (tanh-approximated GELU); the segment is pooled three ways -- an attention-
weighted mean (one learned score per frame, softmax over the segment), the plain mean and the standard
deviation of the projected frames -- and a linear layer maps the ``3 H`` pooled values to the classes.
Trained in torch by :mod:`emoreason.training.voice.frames`; shipped as plain arrays inside the voice
model's safetensors file under the ``frames.`` prefix:

``in_mean``/``in_std`` (384), ``proj_w`` (H, 384), ``proj_b`` (H), ``att_w`` (1, H), ``att_b`` (1),
``out_w`` (classes, 3 H), ``out_b`` (classes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FRAME_KEYS = ("in_mean", "in_std", "proj_w", "proj_b", "att_w", "att_b", "out_w", "out_b")


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (torch's ``approximate="tanh"``)."""
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


def pooled_frames(params: dict[str, np.ndarray], states: np.ndarray) -> np.ndarray:
    """The ``3 H`` pooled values (attention mean, mean, std) of one segment's ``(frames, 384)`` states."""
    x = (np.asarray(states, dtype=np.float64) - params["in_mean"]) / params["in_std"]
    h = gelu_tanh(x @ params["proj_w"].T + params["proj_b"])
    a = (h @ params["att_w"].T + params["att_b"])[:, 0]
    w = np.exp(a - a.max())
    w /= w.sum()
    mean = h.mean(axis=0)
    std = np.sqrt(((h - mean) ** 2).mean(axis=0) + 1e-5)
    return np.concatenate([w @ h, mean, std])


def frame_proba(params: dict[str, np.ndarray], segments: Sequence[np.ndarray]) -> np.ndarray:
    """Class probabilities, one row per segment, from each segment's encoder states."""
    pooled = np.stack([pooled_frames(params, s) for s in segments])
    logits = pooled @ params["out_w"].T + params["out_b"]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)
