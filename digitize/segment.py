"""Run the trained trace segmenter (``models/trace_unet.onnx``) with onnxruntime: page → trace probability.

The model is loaded once per process (:func:`default_segmenter`), after its sha256 has been checked against
``models/manifest.json``; a file that does not match is refused. The CPU provider is used unless onnxruntime offers
CUDA *and* an NVIDIA GPU is really present. The page is resampled to the network's scale
(:data:`digitize.unet.WORK_PX_PER_MM`, from the grid calibration), padded to a multiple of 16, and the probability
is resampled back to the page's pixels.

The manifest entry has the same fields as ``classify.manifest.ModelEntry``
(same file, same schema), so both packages read and write one ``models/manifest.json``; this module holds only the
few lines the digitizer needs, because ``digitize`` may not import ``classify``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ecg.errors import EcgInputError

MODEL_NAME = "trace_unet"
MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = 1
WORK_PX_PER_MM = 3.5
"""Scale the network was trained at (px/mm); equals ``digitize.unet.WORK_PX_PER_MM`` (kept here: no torch import)."""
STRIDE = 16
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


TRAIN_HINTS = {
    MODEL_NAME: "python -m digitize.train RUN_DIR --time-budget-min 40 (or use method='classical')",
    "orient": "python -m digitize.train_orient RUN_DIR --time-budget-min 25",
}


class SegmenterUnavailableError(EcgInputError):
    """The trace model file or its manifest entry is missing."""


class SegmenterIntegrityError(EcgInputError):
    """The trace model file's sha256 differs from the manifest."""


@dataclass(frozen=True)
class ModelRecord:
    """A manifest entry (fields as ``classify.manifest.ModelEntry``)."""

    name: str
    file: str
    sha256: str
    size_bytes: int
    version: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    preprocess: str = "none"
    classes: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    export: dict[str, Any] = field(default_factory=dict)


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _read_document(models_dir: Path) -> dict[str, Any]:
    path = models_dir / MANIFEST_NAME
    if not path.exists():
        return {"schema": MANIFEST_SCHEMA, "models": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def write_model_record(models_dir: str | Path, record: ModelRecord) -> Path:
    """Add or replace ``record`` in ``<models_dir>/manifest.json``, keeping the other entries."""
    models_dir = Path(models_dir)
    document = _read_document(models_dir)
    models = dict(document.get("models", {}))
    models[record.name] = asdict(record)
    document = {"schema": document.get("schema", MANIFEST_SCHEMA), "models": {k: models[k] for k in sorted(models)}}
    path = models_dir / MANIFEST_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def verified_model(models_dir: str | Path, name: str = MODEL_NAME) -> tuple[ModelRecord, Path]:
    """The manifest entry and file of ``name`` after checking the file's sha256.

    Raises
    ------
    SegmenterUnavailableError
        No entry or no file.
    SegmenterIntegrityError
        The file's sha256 differs from the manifest.
    """
    models_dir = Path(models_dir)
    entry = _read_document(models_dir).get("models", {}).get(name)
    if entry is None or not (models_dir / entry["file"]).exists():
        hint = TRAIN_HINTS.get(name, "")
        raise SegmenterUnavailableError(
            f"model {models_dir / (name + '.onnx')} is missing" + (f"; train it with: {hint}" if hint else "")
        )
    record = ModelRecord(**entry)
    path = models_dir / record.file
    actual = sha256_file(path)
    if actual != record.sha256:
        raise SegmenterIntegrityError(
            f"model {path} has sha256 {actual}, but the manifest expects {record.sha256}; "
            "the file is corrupt or was replaced"
        )
    return record, path


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
