"""The FER+ expression network in plain torch (imported only where torch is installed: training, export).

A compact VGG-style CNN for 48x48 grey faces, in the spirit of the FER+ paper's VGG-13 but narrower so
one face runs in a few milliseconds on one CPU core: a first stage of one 3x3 conv-BN-ReLU layer, then
stages of two, each stage ``widths`` channels wide and followed by 2x2 max-pooling (48 -> 24 -> 12 -> 6 -> 3),
then global average pooling, dropout and one linear layer giving logits over :data:`FERPLUS_CLASSES`.
"""

from __future__ import annotations

import torch
from torch import nn

from emoreason.perception.face.expression_net import FERPLUS_CLASSES, NET_SIZE

INPUT_SIZE = NET_SIZE
WIDTHS = (16, 32, 64, 128)


class FerNet(nn.Module):
    """Input: (N, 1, 48, 48) float grey in 0..1; output: (N, 10) logits over :data:`FERPLUS_CLASSES`."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS, dropout: float = 0.25,
                 n_classes: int = len(FERPLUS_CLASSES)) -> None:
        super().__init__()
        self.widths = tuple(widths)
        layers: list[nn.Module] = []
        c_in = 1
        for stage, w in enumerate(widths):
            for _ in range(1 if stage == 0 else 2):
                layers += [nn.Conv2d(c_in, w, 3, padding=1, bias=False), nn.BatchNorm2d(w),
                           nn.ReLU(inplace=True)]
                c_in = w
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(c_in, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features((x - 0.5) / 0.25))
