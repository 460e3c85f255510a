"""FER+ as arrays, and batched augmentation in torch (imported only for training: torch).

:func:`load_split` reads ``<root>/<split>_labels.csv`` (path, majority, then one vote count per class in
:data:`~emoreason.training.ferplus.net.FERPLUS_CLASSES` order) and the 48x48 grey PNGs it names. The soft
target of a face is its vote distribution (the FER+ paper's "probability" scheme), "unknown" and "NF"
included, so the network learns to say when a crop is not a readable face.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from emoreason.errors import CorruptMediaError, InputNotFoundError
from emoreason.training.ferplus.net import FERPLUS_CLASSES, INPUT_SIZE


@dataclass
class FerSplit:
    """One split: ``images`` (N, 48, 48) uint8, ``votes`` (N, 10) float32, ``majority`` (N,) class index
    of the CSV's majority label (-1 where it names none of :data:`FERPLUS_CLASSES`)."""

    images: np.ndarray
    votes: np.ndarray
    majority: np.ndarray

    @property
    def targets(self) -> np.ndarray:
        """The vote distributions (rows sum to 1)."""
        return self.votes / np.maximum(self.votes.sum(1, keepdims=True), 1.0)


def load_split(root: str | Path, split: str, limit: int | None = None) -> FerSplit:
    """The ``split`` ("train" or "valid") of the FER+ folder ``root``; rows without votes are skipped;
    ``limit`` keeps the first rows only. A missing CSV is an InputNotFoundError, an unreadable image a
    CorruptMediaError."""
    root = Path(root)
    table = root / f"{split}_labels.csv"
    if not table.is_file():
        raise InputNotFoundError(f"no FER+ label file {table}")
    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    images, votes, majority = [], [], []
    for row in rows[:limit]:
        v = [float(row[c]) for c in FERPLUS_CLASSES]
        if sum(v) <= 0:
            continue
        img = cv2.imread(str(root / row["path"]), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise CorruptMediaError(f"cannot read FER+ image {root / row['path']}")
        if img.shape != (INPUT_SIZE, INPUT_SIZE):
            img = cv2.resize(img, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
        images.append(img)
        votes.append(v)
        majority.append(FERPLUS_CLASSES.index(row["majority"]) if row["majority"] in FERPLUS_CLASSES else -1)
    return FerSplit(np.stack(images), np.asarray(votes, np.float32), np.asarray(majority, np.int64))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) -> float (N, 1, H, W) in 0..1."""
    return torch.from_numpy(np.ascontiguousarray(images)).float().unsqueeze(1) / 255.0


def _blur_kernel(sigma: float = 0.8) -> torch.Tensor:
    r = torch.arange(-2, 3, dtype=torch.float32)
    k = torch.exp(-0.5 * (r / sigma) ** 2)
    k = k / k.sum()
    return (k[:, None] * k[None, :]).view(1, 1, 5, 5)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A randomly changed copy of the batch ``x`` (N, 1, H, W in 0..1): horizontal flip (p 0.5), rotation
    +-12 degrees, scale 0.88-1.12, shift +-8 % (edges repeated), contrast 0.7-1.3 and brightness +-0.1,
    Gaussian blur (p 0.2), one erased rectangle up to a quarter of the side (p 0.25)."""
    n = x.shape[0]

    def uni(lo: float, hi: float, size: tuple[int, ...] = ()) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand((n, *size), generator=gen)

    ang = uni(-12, 12) * math.pi / 180
    scale = uni(0.88, 1.12)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, uni(-0.16, 0.16)], 1),
                         torch.stack([sin * flip, cos, uni(-0.16, 0.16)], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    mean = out.mean((1, 2, 3), keepdim=True)
    out = (out - mean) * uni(0.7, 1.3, (1, 1, 1)) + mean + uni(-0.1, 0.1, (1, 1, 1))
    blur = torch.rand(n, generator=gen) < 0.2
    if blur.any():
        out[blur] = F.conv2d(F.pad(out[blur], (2, 2, 2, 2), mode="replicate"), _blur_kernel())
    side = x.shape[-1]
    for i in torch.nonzero(torch.rand(n, generator=gen) < 0.25).flatten().tolist():
        h, w = (int(v) for v in torch.randint(4, side // 4 + 1, (2,), generator=gen))
        y0, x0 = (int(v) for v in torch.randint(0, side - 4, (2,), generator=gen))
        out[i, :, y0:y0 + h, x0:x0 + w] = float(torch.rand(1, generator=gen))
    return out.clamp(0.0, 1.0)
