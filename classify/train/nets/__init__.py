"""Network builders (torch): the RGB-tiled ResNet, the Faster R-CNN beat detector and the fusion network.

Importing this package imports torch; serving code uses :mod:`classify.runtime` (onnxruntime) instead.
"""

from classify.train.nets.detector import BEAT_DETECTOR_BACKBONES, beat_detector
from classify.train.nets.fusion import BeatEncoder, FusionNet, GlobalEncoder, fusion_net
from classify.train.nets.tiled import TiledResNet, tiled_resnet

__all__ = [
    "BEAT_DETECTOR_BACKBONES",
    "BeatEncoder",
    "FusionNet",
    "GlobalEncoder",
    "TiledResNet",
    "beat_detector",
    "fusion_net",
    "tiled_resnet",
]
