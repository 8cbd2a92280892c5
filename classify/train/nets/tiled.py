"""The RGB-tiled ResNet of patent CN110507311A (torchvision ResNet, trained from scratch).

Deviation from the patent: the patent trains a Keras "ResNet-Master" multi-class model; here a torchvision
ResNet-18/34 with independent sigmoid outputs (a record may carry several classes) and per-class thresholds.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import resnet18, resnet34

from classify.labels import TILED_CLASSES
from classify.tiling import TILE_SIZE
from classify.train.nets._common import Normalise

_RESNETS = {18: resnet18, 34: resnet34}


class TiledResNet(nn.Module):
    """ResNet over the 3-tile input; ``forward`` takes float ``(B, 3, 224, 224)`` in [0, 1] and returns logits
    ``(B, num_classes)``."""

    input_size = (TILE_SIZE, TILE_SIZE)

    def __init__(self, num_classes: int = len(TILED_CLASSES), depth: int = 18) -> None:
        super().__init__()
        if depth not in _RESNETS:
            raise ValueError(f"depth {depth} is not available; choose one of {sorted(_RESNETS)}")
        self.depth = depth
        self.normalise = Normalise()
        self.backbone = _RESNETS[depth](weights=None, num_classes=num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.normalise(x))


def tiled_resnet(*, num_classes: int = len(TILED_CLASSES), depth: int = 18) -> TiledResNet:
    """Build the tiled classifier (random initialisation; nothing is downloaded).

    Parameters
    ----------
    num_classes : int
        Number of sigmoid outputs (10: :data:`classify.labels.TILED_CLASSES`).
    depth : {18, 34}
        ResNet depth.
    """
    return TiledResNet(num_classes=num_classes, depth=depth)
