"""Pieces shared by the network builders."""

from __future__ import annotations

import torch
from torch import nn

INPUT_MEAN = 0.5
INPUT_STD = 0.25


class Normalise(nn.Module):
    """Map pixel values in [0, 1] to roughly zero mean and unit spread (fixed, part of the exported graph)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - INPUT_MEAN) / INPUT_STD
