"""Run the trained trace segmenter (``models/trace_unet.onnx``) with onnxruntime: page → trace probability.

The model is opened by the one model loader, :func:`ecg.models.open_model` (sha256 checked against
``models/manifest.json``, provider policy, one session per process). The page is resampled to the network's scale
(:data:`digitize.train.unet_net.WORK_PX_PER_MM`, from the grid calibration),
padded to a multiple of 16, and the probability
is resampled back to the page's pixels.

"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ecg.manifest import ModelEntry, resolve_models_dir
from ecg.models import LoadedModel, open_model

MODEL_NAME = "trace_unet"
WORK_PX_PER_MM = 3.5
"""Scale the network was trained at (px/mm); equals ``digitize.train.unet_net.WORK_PX_PER_MM`` (no torch import)."""
STRIDE = 16


TRAIN_HINTS = {
    MODEL_NAME: "python -m digitize.train.unet RUN_DIR --time-budget-min 40 (or use method='classical')",
    "orient": "python -m digitize.train.orient RUN_DIR --time-budget-min 25",
}


def open_digitizer_model(
    models_dir: str | Path | None, name: str = MODEL_NAME, *, threads: int | None = None
) -> LoadedModel:
    """The digitizer's model ``name`` through :func:`ecg.models.open_model`; a missing model's message says how to
    train it."""
    folder = resolve_models_dir(models_dir)
    hint = TRAIN_HINTS.get(name, "")
    missing = f"model {folder / (name + '.onnx')} is missing" + (f"; train it with: {hint}" if hint else "")
    return open_model(name, folder, threads=threads, missing_message=missing)


class TraceSegmenter:
    """An onnxruntime session of the trace U-Net.

    Parameters
    ----------
    models_dir : path
        Folder holding ``manifest.json`` and the ONNX file.
    threads : int, optional
        Intra-op threads (default: onnxruntime's choice, all cores).
    """

    def __init__(self, models_dir: str | Path | None = None, *, threads: int | None = None) -> None:
        model = open_digitizer_model(models_dir, threads=threads)
        self.record: ModelEntry = model.entry
        self.path, self.session = model.path, model.session
        self.px_per_mm = float(self.record.inputs.get("px_per_mm", WORK_PX_PER_MM))

    def probability(self, rgb: np.ndarray, px_per_mm: float) -> np.ndarray:
        """Trace probability (H, W) float32 of an RGB uint8 page whose scale is ``px_per_mm`` (px/mm)."""
        height, width = rgb.shape[:2]
        factor = float(np.clip(self.px_per_mm / max(px_per_mm, 1e-3), 0.05, 4.0))
        size = (max(STRIDE, int(round(width * factor))), max(STRIDE, int(round(height * factor))))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
        pad_h, pad_w = (-small.shape[0]) % STRIDE, (-small.shape[1]) % STRIDE
        if pad_h or pad_w:
            small = cv2.copyMakeBorder(small, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        x = (small.astype(np.float32) * np.float32(1.0 / 255.0) - np.float32(0.5)).transpose(2, 0, 1)[None]
        logits = self.session.run(None, {"image": np.ascontiguousarray(x)})[0][0, 0]
        logits = logits[: size[1], : size[0]]
        prob = 1.0 / (1.0 + np.exp(-logits))
        return cv2.resize(prob.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


_CACHE: dict[tuple[str, int | None], TraceSegmenter] = {}


def default_segmenter(models_dir: str | Path | None = None, *, threads: int | None = None) -> TraceSegmenter:
    """The process-wide segmenter (loaded and verified on first use; folder: `ecg.manifest.resolve_models_dir`)."""
    folder = resolve_models_dir(models_dir)
    key = (str(folder.resolve()), threads)
    if key not in _CACHE:
        _CACHE[key] = TraceSegmenter(folder, threads=threads)
    return _CACHE[key]
