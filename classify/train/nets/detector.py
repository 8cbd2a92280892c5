"""The heartbeat detector of patent CN110731773A: Faster R-CNN (conv backbone, region proposal network, RoI pooling,
box regression) with one foreground class, "complete heartbeat".

Backbones (``backbone=``):

* ``"vgg-slim"`` (default): the patent's backbone shape, 13 conv + 13 ReLU + 4 max-pool layers (VGG-16 conv body,
  stride 16), with batch norm added and channel widths cut to 8–128 (VGG-16 has 64–512) and a 128-wide box head
  (torchvision's default is 1024) so that it trains from scratch on a CPU (≈ 1.2 GMAC per 384×512 canvas);
* ``"mobilenet_v3"``: torchvision's ``fasterrcnn_mobilenet_v3_large_320_fpn`` layout, untrained.

Both take a fixed canvas (``classify.fusion_inputs.DETECTOR_SIZE``, 384×512 px); torchvision's internal resize is
then the identity, which keeps the ONNX graph free of size-dependent branches. Nothing is downloaded
(``weights=None``, ``weights_backbone=None``).
"""

from __future__ import annotations

from typing import Literal

from torch import nn
from torchvision.models.detection import FasterRCNN, fasterrcnn_mobilenet_v3_large_320_fpn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign

from classify.fusion_inputs import DETECTOR_SIZE

BEAT_DETECTOR_BACKBONES = ("vgg-slim", "mobilenet_v3")
MAX_DETECTIONS = 160
"""Upper bound on beats per image (a 12×1 layout at 25 mm/s shows ~12 leads × 10 beats)."""

_VGG_SLIM = (8, 8, "M", 16, 16, "M", 32, 32, 32, "M", 64, 64, 64, "M", 128, 128, 128)


def _vgg_slim() -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for item in _VGG_SLIM:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [
                nn.Conv2d(channels, int(item), 3, padding=1, bias=False),
                nn.BatchNorm2d(int(item)),
                nn.ReLU(True),
            ]
            channels = int(item)
    body = nn.Sequential(*layers)
    body.out_channels = channels  # type: ignore[assignment]
    return body


def _common_kwargs(image_size: tuple[int, int]) -> dict:
    height, width = image_size
    return dict(
        min_size=min(height, width),
        max_size=max(height, width),
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.25, 0.25, 0.25],
        box_detections_per_img=MAX_DETECTIONS,
        box_score_thresh=0.05,
        rpn_pre_nms_top_n_test=600,
        rpn_post_nms_top_n_test=300,
        rpn_pre_nms_top_n_train=1200,
        rpn_post_nms_top_n_train=600,
        box_batch_size_per_image=256,
    )


def beat_detector(
    *,
    backbone: Literal["vgg-slim", "mobilenet_v3"] = "vgg-slim",
    image_size: tuple[int, int] = DETECTOR_SIZE,
) -> FasterRCNN:
    """Build the Faster R-CNN beat detector (2 classes: background, beat), randomly initialised.

    Parameters
    ----------
    backbone : {"vgg-slim", "mobilenet_v3"}
        Convolutional body (see the module docstring).
    image_size : (int, int)
        Fixed input canvas (H, W) px; inputs must already have this size.

    Returns
    -------
    torchvision.models.detection.FasterRCNN
        In eval mode it maps a list of float ``(3, H, W)`` images in [0, 1] to dicts with ``boxes`` (canvas px),
        ``scores`` and ``labels``.
    """
    kwargs = _common_kwargs(image_size)
    if backbone == "mobilenet_v3":
        return fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=2, **kwargs)
    if backbone != "vgg-slim":
        raise ValueError(f"unknown backbone {backbone!r}; valid: {', '.join(BEAT_DETECTOR_BACKBONES)}")
    body = _vgg_slim()
    # Beats on a 384×512 canvas are ~15–120 px wide and ~10–80 px tall.
    anchors = AnchorGenerator(sizes=((16, 32, 64, 128),), aspect_ratios=((0.5, 1.0, 2.0),))
    roi_pool = MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2)
    representation = 128
    return FasterRCNN(
        body,
        rpn_anchor_generator=anchors,
        box_roi_pool=roi_pool,
        box_head=TwoMLPHead(body.out_channels * 7 * 7, representation),
        box_predictor=FastRCNNPredictor(representation, 2),
        **kwargs,
    )
