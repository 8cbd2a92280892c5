"""The global/local deep-feature fusion network of patent CN110731773A (normal vs abnormal ECG image).

* local branch (:class:`BeatEncoder`): ResNet-18 conv body over each detected beat crop, features summed over the
  beats (patent step 4.1, Σ F_k);
* global branch (:class:`GlobalEncoder`): DenseNet-121 conv body over the whole image (F_0);
* fusion (:class:`FusionNet`): concatenation, then two fully connected layers with batch norm, ReLU and dropout 0.5.

Deviations from the patent, for a 2-core CPU and for ONNX serving:

* input sizes: whole image 192×256 px, beat crops 64×64 px, at most 16 beats per image with a validity mask (the
  patent does not state sizes); the feature widths are the torchvision ones, 512 (ResNet-18) + 1024 (DenseNet-121)
  = 1536, not the patent's 1024 + 1024 = 2048;
* the output is one logit (sigmoid → probability of *abnormal*) instead of a 2-way softmax (equivalent);
* branch pre-training uses the record label for every beat of the record (the patent trains the beat classifier on
  labelled beats, which PTB-XL does not have).
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import densenet121, resnet18

from classify.fusion_inputs import BEAT_CROP_SIZE, GLOBAL_SIZE, MAX_BEATS
from classify.train.nets._common import Normalise

LOCAL_FEATURES = 512
GLOBAL_FEATURES = 1024


class BeatEncoder(nn.Module):
    """ResNet-18 without its FC layer: float ``(N, 3, h, w)`` in [0, 1] → ``(N, 512)``; ``classify`` adds the
    pre-training head (beat normal/abnormal logit)."""

    def __init__(self) -> None:
        super().__init__()
        net = resnet18(weights=None)
        net.fc = nn.Identity()
        self.normalise = Normalise()
        self.body = net
        self.head = nn.Linear(LOCAL_FEATURES, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.normalise(x))

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self(x)).squeeze(-1)


class GlobalEncoder(nn.Module):
    """DenseNet-121 conv body + ReLU + global average pool: float ``(B, 3, H, W)`` → ``(B, 1024)``."""

    def __init__(self) -> None:
        super().__init__()
        self.normalise = Normalise()
        self.features = densenet121(weights=None).features
        self.pool = nn.Sequential(nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(GLOBAL_FEATURES, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.features(self.normalise(x)))

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self(x)).squeeze(-1)


class FusionNet(nn.Module):
    """``forward(image (B, 3, 192, 256), beats (B, K, 3, 64, 64), beat_mask (B, K))`` → abnormal logit ``(B,)``.

    Pixel inputs are float in [0, 1]; ``beat_mask`` is 1 for a real beat crop and 0 for an empty slot.
    """

    global_size = GLOBAL_SIZE
    crop_size = BEAT_CROP_SIZE
    max_beats = MAX_BEATS

    def __init__(self, hidden: int = 512, dropout: float = 0.5) -> None:
        super().__init__()
        self.local = BeatEncoder()
        self.global_ = GlobalEncoder()
        self.head = nn.Sequential(
            nn.Linear(LOCAL_FEATURES + GLOBAL_FEATURES, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def local_features(self, beats: torch.Tensor, beat_mask: torch.Tensor) -> torch.Tensor:
        """Σ over valid beats of the ResNet-18 features: ``(B, 512)`` (zeros when no beat)."""
        batch, slots = beats.shape[:2]
        features = self.local(beats.reshape(batch * slots, *beats.shape[2:])).reshape(batch, slots, -1)
        return (features * beat_mask.unsqueeze(-1)).sum(dim=1)

    def forward(self, image: torch.Tensor, beats: torch.Tensor, beat_mask: torch.Tensor) -> torch.Tensor:
        fused = torch.cat([self.local_features(beats, beat_mask), self.global_(image)], dim=1)
        return self.head(fused).squeeze(-1)


def fusion_net(*, hidden: int = 512, dropout: float = 0.5) -> FusionNet:
    """Build the fusion network (random initialisation; nothing is downloaded)."""
    return FusionNet(hidden=hidden, dropout=dropout)
