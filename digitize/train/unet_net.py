"""The trace segmenter: a small U-Net (Ronneberger et al. 2015) with a ResNet-style encoder (He et al. 2016).

Input: an RGB page resampled to about :data:`WORK_PX_PER_MM` pixels per mm (≈ 90 dpi; a 280 mm page is ~980 px
wide), values ``rgb / 255 - 0.5``, shape ``(N, 3, H, W)`` with H and W multiples of :data:`STRIDE`. Output: one
logit per pixel ``(N, 1, H, W)``; ``sigmoid(logit)`` is the probability that the pixel lies on an ECG trace (grid,
text, calibration pulses and separators are background). The encoder halves the resolution four times with
residual blocks, so a pixel sees ~ 10 mm around it (enough to tell a trace from a letter); the decoder adds each
level's skip features back. Widths are small (8–64 channels) so a whole page runs in well under a second on one
CPU core through onnxruntime (:mod:`digitize.segment`). Only the training side imports torch.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ecg.train.harness import export_onnx as harness_export

WORK_PX_PER_MM = 3.5
"""Scale (px/mm) at which the network sees a page."""

STRIDE = 16
"""Total down-sampling of the encoder: input sides must be multiples of it."""


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection (projected when the shape changes)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class DecoderBlock(nn.Module):
    """Up-sample ×2 (bilinear), concatenate the skip features, one 3×3 convolution."""

    def __init__(self, in_ch: int, skip_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_ch + skip_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU()
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class TraceUNet(nn.Module):
    """U-Net with a residual encoder; ``widths`` are the channels at 1, 1/2, 1/4, 1/8 and 1/16 resolution."""

    def __init__(self, widths: tuple[int, int, int, int, int] = (8, 16, 32, 48, 64)) -> None:
        super().__init__()
        w0, w1, w2, w3, w4 = widths
        self.widths = widths
        self.stem = nn.Sequential(nn.Conv2d(3, w0, 3, padding=1, bias=False), nn.BatchNorm2d(w0), nn.ReLU())
        self.enc1 = BasicBlock(w0, w1, stride=2)
        self.enc2 = BasicBlock(w1, w2, stride=2)
        self.enc3 = BasicBlock(w2, w3, stride=2)
        self.enc4 = BasicBlock(w3, w4, stride=2)
        self.dec3 = DecoderBlock(w4, w3, w3)
        self.dec2 = DecoderBlock(w3, w2, w2)
        self.dec1 = DecoderBlock(w2, w1, w1)
        self.dec0 = DecoderBlock(w1, w0, w0)
        self.head = nn.Conv2d(w0, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = self.stem(x)
        s1 = self.enc1(s0)
        s2 = self.enc2(s1)
        s3 = self.enc3(s2)
        s4 = self.enc4(s3)
        y = self.dec3(s4, s3)
        y = self.dec2(y, s2)
        y = self.dec1(y, s1)
        y = self.dec0(y, s0)
        return self.head(y)


def trace_unet(*, widths: tuple[int, int, int, int, int] = (8, 16, 32, 48, 64)) -> TraceUNet:
    """Build the trace segmenter (randomly initialised)."""
    return TraceUNet(widths)


def export_onnx(model: TraceUNet, path: str, *, opset: int = 17) -> None:
    """Write ``model`` (eval mode) to ONNX, dynamic batch, height and width (`ecg.train.harness.export_onnx`)."""
    axes = {0: "batch", 2: "height", 3: "width"}
    harness_export(model, (torch.zeros(1, 3, 64, 64),), Path(path), ["image"], ["logits"],
                   {"image": axes, "logits": axes}, opset=opset)
