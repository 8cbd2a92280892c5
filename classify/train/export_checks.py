"""Checks used by :mod:`classify.train.export`: float16 weight storage and the order-free comparison of detection
sets on fixed inputs (the CPU session and the plain output comparison are the shared harness's,
:mod:`ecg.train.harness`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from classify.fusion_inputs import DETECTOR_SIZE
from ecg.train.harness import check_session, max_abs_diff

__all__ = ["check_session", "detection_set_diff", "detector_check_inputs", "max_abs_diff", "store_weights_fp16"]


def store_weights_fp16(path: Path, min_elements: int = 256) -> int:
    """Store float32 initializers of ≥ ``min_elements`` values as float16 + ``Cast`` to float32; returns the count."""
    model = onnx.load(str(path))
    graph = model.graph
    casts, kept, converted = [], [], 0
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and np.prod(init.dims) >= min_elements:
            half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "__fp16")
            kept.append(half)
            casts.append(
                helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT, name=init.name + "__cast")
            )
            converted += 1
        else:
            kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return converted


def detection_set_diff(
    boxes_a: np.ndarray,
    scores_a: np.ndarray,
    boxes_b: np.ndarray,
    scores_b: np.ndarray,
    *,
    cap: int | None = None,
    tie: float = 1e-3,
) -> float:
    """Order-free difference of two detection sets: the largest, over every box of either set, of the distance to
    the closest box of the other set (L∞) and of the score difference to it; ``inf`` when the counts differ.

    Faster R-CNN sorts by score, so near-equal scores may come out in another order; when both sets are full
    (``cap`` detections), boxes scoring within ``tie`` of the lowest kept score may legitimately be swapped for
    others and are left out of the comparison.
    """
    boxes_a, boxes_b = np.asarray(boxes_a, np.float64).reshape(-1, 4), np.asarray(boxes_b, np.float64).reshape(-1, 4)
    scores_a, scores_b = np.asarray(scores_a, np.float64), np.asarray(scores_b, np.float64)
    if len(boxes_a) != len(boxes_b):
        return float("inf")
    if cap is not None and len(boxes_a) == cap:
        floor = max(scores_a.min(), scores_b.min()) + tie
        keep_a, keep_b = scores_a >= floor, scores_b >= floor
        if keep_a.sum() != keep_b.sum():
            return float("inf")
        boxes_a, scores_a, boxes_b, scores_b = boxes_a[keep_a], scores_a[keep_a], boxes_b[keep_b], scores_b[keep_b]
    if len(boxes_a) == 0:
        return 0.0
    distance = np.abs(boxes_a[:, None, :] - boxes_b[None, :, :]).max(axis=2)
    nearest_ab, nearest_ba = distance.argmin(axis=1), distance.argmin(axis=0)
    score_ab = np.abs(scores_a - scores_b[nearest_ab])
    score_ba = np.abs(scores_b - scores_a[nearest_ba])
    return float(max(distance.min(axis=1).max(), distance.min(axis=0).max(), score_ab.max(), score_ba.max()))


def detector_check_inputs() -> dict[str, torch.Tensor]:
    """Fixed canvases for checking the detector: random texture, a drawn ECG-like strip, and a blank page."""
    g = torch.Generator().manual_seed(0)
    height, width = DETECTOR_SIZE
    noise = torch.rand(1, 3, height, width, generator=g)
    strip = torch.ones(1, 3, height, width)
    x = torch.arange(width, dtype=torch.float32)
    for row in range(4):
        base = 60 + row * 80
        y = (base - 25 * torch.exp(-(((x % 60) - 30) ** 2) / 8.0)).long().clamp(0, height - 1)
        strip[0, :, y, x.long()] = 0.0
    return {"noise": noise, "strip": strip, "blank": torch.ones(1, 3, height, width)}
