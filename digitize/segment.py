"""Run the trained trace segmenter (``models/trace_unet.onnx``) with onnxruntime: page → trace probability.

The model is loaded once per process (:func:`default_segmenter`), after its sha256 has been checked against
``models/manifest.json``; a file that does not match is refused. The CPU provider is used unless onnxruntime offers
CUDA *and* an NVIDIA GPU is really present. The page is resampled to the network's scale
(:data:`digitize.train.unet_net.WORK_PX_PER_MM`, from the grid calibration),
padded to a multiple of 16, and the probability
is resampled back to the page's pixels.

The manifest (``models/manifest.json``) is read and checked by :mod:`ecg.manifest`, the one implementation the
classifiers use too.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ecg.manifest import DEFAULT_MODELS_DIR, ModelEntry, verified_entry

MODEL_NAME = "trace_unet"
WORK_PX_PER_MM = 3.5
"""Scale the network was trained at (px/mm); equals ``digitize.train.unet_net.WORK_PX_PER_MM`` (no torch import)."""
STRIDE = 16


TRAIN_HINTS = {
    MODEL_NAME: "python -m digitize.train.unet RUN_DIR --time-budget-min 40 (or use method='classical')",
    "orient": "python -m digitize.train.orient RUN_DIR --time-budget-min 25",
}


def verified_model(models_dir: str | Path, name: str = MODEL_NAME) -> tuple[ModelEntry, Path]:
    """The manifest entry and file of the digitizer's model ``name`` after checking the file's sha256
    (:func:`ecg.manifest.verified_entry`; a missing model's message says how to train it)."""
    hint = TRAIN_HINTS.get(name, "")
    missing = f"model {Path(models_dir) / (name + '.onnx')} is missing" + (f"; train it with: {hint}" if hint else "")
    return verified_entry(models_dir, name, missing_message=missing)


class TraceSegmenter:
    """An onnxruntime session of the trace U-Net.

    Parameters
    ----------
    models_dir : path
        Folder holding ``manifest.json`` and the ONNX file.
    threads : int, optional
        Intra-op threads (default: onnxruntime's choice, all cores).
    """

    def __init__(self, models_dir: str | Path = DEFAULT_MODELS_DIR, *, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.record, self.path = verified_model(models_dir)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        providers = ["CPUExecutionProvider"]
        if "CUDAExecutionProvider" in ort.get_available_providers() and gpu_present():
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(self.path), options, providers=providers)
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


def gpu_present() -> bool:
    """True when an NVIDIA GPU is visible (a CUDA build of onnxruntime offers CUDA even on machines without one)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return (gpus.is_dir() and any(gpus.iterdir())) or Path("/dev/nvidia0").exists()


_CACHE: dict[tuple[str, int | None], TraceSegmenter] = {}


def default_segmenter(models_dir: str | Path | None = None, *, threads: int | None = None) -> TraceSegmenter:
    """The process-wide segmenter (loaded and verified on first use); ``ECGSCREEN_MODELS_DIR`` overrides the folder."""
    folder = Path(models_dir or os.environ.get("ECGSCREEN_MODELS_DIR") or DEFAULT_MODELS_DIR)
    key = (str(folder.resolve()), threads)
    if key not in _CACHE:
        _CACHE[key] = TraceSegmenter(folder, threads=threads)
    return _CACHE[key]
