"""Recover a ResNet's torch weights from an exported ONNX graph, to initialise a new training run from a shipped model.

The shipped ``models/*.onnx`` are the only copy of a trained network once its run folder is gone. torch's ONNX
exporter folds each eval-mode BatchNorm into the convolution before it (``W' = W·γ/√(σ²+ε)``,
``b' = β − μ·γ/√(σ²+ε)``), so the graph holds one weight and one bias per conv. Loading ``W'`` into the conv and
``b'`` into a BatchNorm with γ = 1, μ = 0, σ² = 1 − ε gives the same function in eval mode. Weights stored as
float16 (``__fp16`` initialisers behind a ``Cast``) are read back as float32.

The convolutions are taken in graph order, skipping those whose weight is a named parameter (not folded, e.g. the
DenseNet branch of the fusion net whose BatchNorms precede their convs), and matched one by one, with shapes checked,
to a torchvision ResNet's convolutions in module order (conv1, conv2, then the downsample of each block: the order in
which the block's ``forward`` runs them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

BN_EPS = 1e-5
"""torchvision's BatchNorm ε (the folded BatchNorm used it)."""


def folded_convs(path: str | Path, *, skip_prefix: str = "model.global_") -> list[tuple[np.ndarray, np.ndarray]]:
    """``(weight, bias)`` float32 of every Conv with a folded bias in the graph at ``path``, in graph order; convs
    whose weight initialiser name starts with ``skip_prefix`` are left out."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    tensors = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in graph.initializer}
    for node in graph.node:  # constants, and float16 storage: Cast(initialiser) → the name the Conv reads
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            tensors[node.output[0]] = numpy_helper.to_array(node.attribute[0].t).astype(np.float32)
        elif node.op_type == "Cast" and node.input[0] in tensors:
            tensors[node.output[0]] = tensors[node.input[0]]
    origin = {node.output[0]: node.input[0] for node in graph.node if node.op_type == "Cast"}
    convs = []
    for node in graph.node:
        if node.op_type != "Conv" or len(node.input) < 3 or not {node.input[1], node.input[2]} <= tensors.keys():
            continue
        if origin.get(node.input[1], node.input[1]).startswith(skip_prefix):
            continue
        convs.append((tensors[node.input[1]], tensors[node.input[2]]))
    return convs


def resnet_state_from_onnx(path: str | Path, resnet: nn.Module, *, prefix: str = "") -> dict[str, torch.Tensor]:
    """A state dict for ``resnet`` (a torchvision ResNet, its FC layer not included) whose convs and BatchNorms
    reproduce the folded convs of the ONNX graph at ``path``; keys get ``prefix``.

    Raises
    ------
    ValueError
        The graph's folded convs do not match the ResNet's convs in number or shape.
    """
    pairs = _conv_bn_pairs(resnet)
    convs = folded_convs(path)
    if len(convs) < len(pairs):
        raise ValueError(f"{path}: {len(convs)} folded convolutions, the ResNet has {len(pairs)}")
    state: dict[str, torch.Tensor] = {}
    for (conv_name, bn_name, conv), (weight, bias) in zip(pairs, convs[: len(pairs)], strict=True):
        if tuple(weight.shape) != tuple(conv.weight.shape):
            raise ValueError(f"{path}: conv {conv_name} expects {tuple(conv.weight.shape)}, graph has {weight.shape}")
        channels = weight.shape[0]
        state[f"{prefix}{conv_name}.weight"] = torch.from_numpy(weight.copy())
        state[f"{prefix}{bn_name}.weight"] = torch.ones(channels)
        state[f"{prefix}{bn_name}.bias"] = torch.from_numpy(bias.copy())
        state[f"{prefix}{bn_name}.running_mean"] = torch.zeros(channels)
        state[f"{prefix}{bn_name}.running_var"] = torch.full((channels,), 1.0 - BN_EPS)
    return state


def _conv_bn_pairs(resnet: nn.Module) -> list[tuple[str, str, nn.Conv2d]]:
    """(conv name, its BatchNorm's name, conv) in the order a torchvision ResNet's forward runs them."""
    pairs = [("conv1", "bn1", resnet.conv1)]
    for layer_name in ("layer1", "layer2", "layer3", "layer4"):
        for index, block in enumerate(getattr(resnet, layer_name)):
            base = f"{layer_name}.{index}"
            pairs.append((f"{base}.conv1", f"{base}.bn1", block.conv1))
            pairs.append((f"{base}.conv2", f"{base}.bn2", block.conv2))
            if block.downsample is not None:
                pairs.append((f"{base}.downsample.0", f"{base}.downsample.1", block.downsample[0]))
    return pairs
