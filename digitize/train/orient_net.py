"""The orientation network (4-way quarter-turn classifier), its training step, prediction, threshold and metrics.

Six strided conv blocks (3×3, batch norm, ReLU; 16→128 channels), a 4×4 spatial map flattened into one linear layer
(the position of pulses, labels and the rhythm strip matters, so it is not averaged away). Exported to ONNX with
input ``image`` (batch, 1, side, side) and output ``logits`` (batch, 4); served by :mod:`digitize.orient`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from digitize.orient import INPUT_SIDE, letterbox
from ecg.train.harness import export_onnx as harness_export
from ecg.train.harness import onnx_agrees

WIDTHS = (16, 24, 48, 64, 96, 128)
"""Channels of the six conv blocks."""


class OrientNet(nn.Module):
    """Strided conv blocks → 4×4 map → linear layer: logits of the 4 quarter-turn classes."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS, dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for i, width in enumerate(widths):
            layers += [
                nn.Conv2d(channels, width, 5 if i == 0 else 3, stride=2, padding=2 if i == 0 else 1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            if 0 < i < len(widths) - 1:
                layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
            channels = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels * 16, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)))


def train_step(model: nn.Module, optimiser: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """One cross-entropy step; the batch's loss before the update."""
    model.train()
    loss = F.cross_entropy(model(x), y, label_smoothing=0.02)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return float(loss.item())


@torch.no_grad()
def predict(model: nn.Module, images: np.ndarray, shapes: np.ndarray, side: int = INPUT_SIDE, batch: int = 64):
    """Softmax ``(4N, 4)`` and labels ``(4N,)`` of every page turned by each quarter (no augmentation)."""
    model.eval()
    probs, labels = [], []
    for start in range(0, len(images), batch // 4):
        xs, ys = [], []
        for index in range(start, min(len(images), start + batch // 4)):
            h, w = shapes[index]
            for k in range(4):
                xs.append(letterbox(np.ascontiguousarray(np.rot90(images[index, :h, :w], k)), side))
                ys.append((4 - k) % 4)
        probs.append(torch.softmax(model(torch.from_numpy(np.stack(xs)[:, None])), 1).numpy())
        labels.append(np.array(ys))
    return np.concatenate(probs), np.concatenate(labels)


def choose_threshold(probs: np.ndarray, labels: np.ndarray, minimum: float) -> float:
    """Lowest softmax maximum (≥ ``minimum``, two decimals up to 0.999) above which no call is wrong."""
    top = probs.max(1)
    wrong = probs.argmax(1) != labels
    threshold = max(minimum, float(top[wrong].max()) + 0.005) if wrong.any() else minimum
    return float(min(0.999, math.ceil(threshold * 1000) / 1000))


def metrics_of(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """Accuracy (overall and per class), coverage and wrong calls above ``threshold``, mean NLL."""
    calls = probs.argmax(1)
    sure = probs.max(1) >= threshold
    per_class = {str(c): float((calls[labels == c] == c).mean()) for c in range(4) if (labels == c).any()}
    return {
        "accuracy": float((calls == labels).mean()),
        "accuracy_per_class": per_class,
        "nll": float(-np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-9)).mean()),
        "threshold": threshold,
        "confident_share": float(sure.mean()),
        "confident_accuracy": float((calls[sure] == labels[sure]).mean()) if sure.any() else None,
        "confident_wrong": int((sure & (calls != labels)).sum()),
        "samples": int(len(labels)),
    }


def export_onnx(model: nn.Module, path: Path, side: int = INPUT_SIDE, opset: int = 17) -> float:
    """Write ``model`` to ONNX (input ``image`` (batch, 1, side, side), output ``logits`` (batch, 4)).

    Returns the largest |onnxruntime − torch| logit difference on a fixed input (raises when above 1e-4).
    """
    axes = {"image": {0: "batch"}, "logits": {0: "batch"}}
    harness_export(model, (torch.zeros(1, 1, side, side),), Path(path), ["image"], ["logits"], axes, opset=opset)
    x = np.random.default_rng(0).uniform(0.0, 1.0, (2, 1, side, side)).astype(np.float32)
    return onnx_agrees(model, Path(path), {"image": x}, tolerance=1e-4)
