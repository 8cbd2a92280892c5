"""Serve both image classifiers with onnxruntime (no torch): load once, verify, classify.

>>> from classify.runtime import Classifier
>>> classifier = Classifier()                      # verifies models/*.onnx against models/manifest.json
>>> result = classifier.classify("ecg.png")       # doctest: +SKIP
>>> result.tiled.labels, result.fusion.label       # doctest: +SKIP

Sessions are opened by the one model loader, :func:`ecg.models.open_model` (sha256 check, provider policy, cache).

Tiled input: the manifest entry of ``tiled.onnx`` says what the network reads. ``preprocess: "canonical"`` (the
shipped model): the three tiles of a clean re-rendering of the *digitized record* (:mod:`classify.canonical`), so
its answer depends on the digitizer (``TiledResult.input`` and ``.note`` say so; the fusion network on raw pixels
stays the digitizer-independent source); give the record with ``classify(image, record=...)`` or the classifier
digitizes the image itself. ``"none"`` / ``"rectify"`` (the earlier models, kept for comparison: point
``models_dir`` or ``ECGSCREEN_MODELS_DIR`` at such a model): tiles cut from the photographed page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classify.canonical import record_tiles
from classify.fusion_inputs import beat_crops, boxes_from_canvas, detector_canvas, global_image
from classify.labels import TILED_CLASSES
from classify.manifest import (
    MODEL_NAMES,
    ModelUnavailableError,
    missing_models_message,
    validated_classes,
)
from classify.preprocess import PREPROCESS_METHODS, Prepared, prepare_image
from classify.tiling import TILE_SIZE, rgb_tiles
from digitize.load import ImageSource, load_image
from ecg.errors import EcgInputError
from ecg.manifest import resolve_models_dir
from ecg.models import LoadedModel, open_model
from ecg.record import EcgRecord

TILED_INPUTS = ("image", "canonical")
CANONICAL_NOTE = (
    "tiled classifier read a canonical re-rendering of the record (for an image: of the digitizer's output, so its "
    "answer depends on the digitizer); the fusion network on raw pixels is the digitizer-independent source"
)
NO_RECORD_NOTE = "tiled classifier not run: no digitized record"


@dataclass(frozen=True)
class Beat:
    """A detected heartbeat: box ``(x0, y0, x1, y1)`` in input-image px and the detector's score (0–1)."""

    box: tuple[float, float, float, float]
    score: float


@dataclass(frozen=True)
class TiledResult:
    """RGB-tiled ResNet output: probability per class (:data:`classify.labels.TILED_CLASSES` order), the classes
    at or above their thresholds, the thresholds, and the classes that passed validation
    (:func:`classify.manifest.validated_classes`; only those count in the cross-check and the status)."""

    probabilities: dict[str, float]
    labels: tuple[str, ...]
    thresholds: dict[str, float]
    validated: tuple[str, ...] = TILED_CLASSES
    input: str = "image"
    """What the network read: ``"image"`` (tiles of the photographed page, independent of the digitizer) or
    ``"canonical"`` (tiles of the re-rendered digitized record, :mod:`classify.canonical`)."""
    note: str = ""
    """Empty, :data:`CANONICAL_NOTE`, or why the classifier did not run (:data:`NO_RECORD_NOTE`)."""


@dataclass(frozen=True)
class FusionResult:
    """Fusion network output: probability of an abnormal ECG, the decision, its threshold, and the beats used."""

    abnormal_probability: float
    label: str
    threshold: float
    beats: tuple[Beat, ...]


@dataclass(frozen=True)
class ClassificationResult:
    """Both classifiers' answers for one image, with the versions of the models that gave them."""

    tiled: TiledResult
    fusion: FusionResult
    model_versions: dict[str, str]
    image_size: tuple[int, int]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the CLI output)."""
        out = asdict(self)
        out["tiled"]["labels"] = list(self.tiled.labels)
        out["tiled"]["validated"] = list(self.tiled.validated)
        out["fusion"]["beats"] = [{"box": list(b.box), "score": b.score} for b in self.fusion.beats]
        out["image_size"] = {"width": self.image_size[1], "height": self.image_size[0]}
        return out


def _to_float(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / 255.0


class Classifier:
    """The three ONNX models (tiled, detector, fusion), loaded once and verified against the manifest.

    Parameters
    ----------
    models_dir : path, optional
        Folder with ``manifest.json`` and the ``.onnx`` files (default ``ECGSCREEN_MODELS_DIR`` or ``<repo>/models``).
    threads : int, optional
        onnxruntime intra-op threads (default: onnxruntime's choice).
    preprocess : {"none", "rectify"}, optional
        Override the preprocessing recorded in the manifest (for measuring its effect); by default each model gets
        the one it was trained with.

    Raises
    ------
    ModelUnavailableError
        A model is missing (the message lists every missing one and how to train it).
    ModelIntegrityError
        A model file's sha256 differs from the manifest.
    """

    def __init__(
        self, models_dir: str | Path | None = None, *, threads: int | None = None, preprocess: str | None = None
    ) -> None:
        self.models_dir = resolve_models_dir(models_dir)
        loaded: dict[str, LoadedModel] = {}
        missing: list[str] = []
        for name in MODEL_NAMES:
            try:
                loaded[name] = open_model(name, self.models_dir, threads=threads)
            except ModelUnavailableError as exc:
                missing += exc.names
        if missing:
            raise ModelUnavailableError(missing_models_message(self.models_dir, missing), tuple(missing))
        self.providers = list(loaded["tiled"].providers)
        self.entries = {name: model.entry for name, model in loaded.items()}
        self.sessions = {name: model.session for name, model in loaded.items()}
        tiled = self.entries["tiled"]
        if list(tiled.classes) != list(TILED_CLASSES):
            raise ModelUnavailableError(f"{tiled.file} has classes {tiled.classes}; expected {list(TILED_CLASSES)}")
        self.tiled_input = "canonical" if tiled.preprocess == "canonical" else "image"
        self.tiled_size = int(tiled.inputs.get("tiles", {}).get("shape", [TILE_SIZE])[-1])
        self.tiled_thresholds = {c: float(tiled.thresholds[c]) for c in TILED_CLASSES}
        self.tiled_validated = validated_classes(tiled)
        self.beat_threshold = float(self.entries["detector"].thresholds["score"])
        self.fusion_threshold = float(self.entries["fusion"].thresholds["abnormal"])
        self.preprocess = {  # the image each image-reading network gets (the canonical tiled one reads a record)
            name: preprocess or entry.preprocess
            for name, entry in self.entries.items()
            if not (name == "tiled" and self.tiled_input == "canonical")
        }
        for method in self.preprocess.values():
            if method not in PREPROCESS_METHODS:
                raise ValueError(f"unknown preprocess method {method!r}; valid: {', '.join(PREPROCESS_METHODS)}")

    @property
    def model_versions(self) -> dict[str, str]:
        return {name: entry.version for name, entry in self.entries.items()}

    # --- single networks (also used by classify.explain) ----------------------------------------------------
    def tiled_probabilities(self, tiles: np.ndarray) -> np.ndarray:
        """Probabilities ``(B, 10)`` for ``uint8`` tiled inputs ``(B, 3, S, S)`` (``S`` = :attr:`tiled_size`)."""
        return self.sessions["tiled"].run(None, {"tiles": _to_float(tiles)})[0]

    def detect_beats(self, image: np.ndarray) -> tuple[Beat, ...]:
        """Beats above the detector's operating threshold, best first, boxes in image px."""
        boxes, scores = self.sessions["detector"].run(None, {"canvas": _to_float(detector_canvas(image))[None]})
        keep = scores >= self.beat_threshold
        boxes = boxes_from_canvas(boxes[keep], image.shape[:2])
        order = np.argsort(-scores[keep], kind="stable")
        return tuple(Beat(tuple(round(float(v), 1) for v in boxes[i]), round(float(scores[keep][i]), 4)) for i in order)

    def fusion_probabilities(self, global_inputs: np.ndarray, crops: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """Abnormal probabilities ``(B,)`` for ``uint8`` global images, ``uint8`` crops and float masks."""
        feeds = {"image": _to_float(global_inputs), "beats": _to_float(crops), "beat_mask": masks.astype(np.float32)}
        return self.sessions["fusion"].run(None, feeds)[0]

    # --- the whole image ---------------------------------------------------------------------------------------
    def prepare(self, image: np.ndarray) -> dict[str, Prepared]:
        """The prepared image per model name (each preprocessing method is applied once)."""
        done: dict[str, Prepared] = {}
        for method in set(self.preprocess.values()):
            done[method] = prepare_image(image, method)  # type: ignore[arg-type]
        return {name: done[method] for name, method in self.preprocess.items()}

    def tiled_tiles(
        self, image: np.ndarray, record: EcgRecord | None, prepared: Prepared | None = None
    ) -> np.ndarray | None:
        """The tiled network's ``uint8`` input ``(3, S, S)``: canonical tiles of ``record`` (digitizing ``image``
        when no record is given; ``None`` when that fails) or tiles of the prepared image."""
        if self.tiled_input == "image":
            prepared = prepared or prepare_image(image, self.preprocess["tiled"])  # type: ignore[arg-type]
            return rgb_tiles(prepared.image, self.tiled_size)
        if record is None:
            from digitize.pipeline import digitize_image  # only when the caller has not digitized already

            try:
                record = digitize_image(image).record
            except EcgInputError:
                return None
        return record_tiles(record, self.tiled_size)

    def classify_tiled(
        self, image: np.ndarray, record: EcgRecord | None = None, prepared: Prepared | None = None
    ) -> TiledResult:
        """The tiled classifier alone (see :meth:`tiled_tiles` for what it reads)."""
        tiles = self.tiled_tiles(image, record, prepared)
        if tiles is None:
            zeros = dict.fromkeys(TILED_CLASSES, 0.0)
            return TiledResult(zeros, (), dict(self.tiled_thresholds), (), self.tiled_input, NO_RECORD_NOTE)
        probabilities = self.tiled_probabilities(tiles[None])[0]
        return TiledResult(
            probabilities={c: round(float(p), 4) for c, p in zip(TILED_CLASSES, probabilities, strict=True)},
            labels=tuple(c for c, p in zip(TILED_CLASSES, probabilities, strict=True) if p >= self.tiled_thresholds[c]),
            thresholds=dict(self.tiled_thresholds),
            validated=self.tiled_validated,
            input=self.tiled_input,
            note=CANONICAL_NOTE if self.tiled_input == "canonical" else "",
        )

    def classify(self, source: ImageSource | np.ndarray, *, record: EcgRecord | None = None) -> ClassificationResult:
        """Run both classifiers on an image (path, bytes or RGB array); bad images raise `EcgInputError`.

        ``record``: the image's digitized record, read by a canonical-input tiled model (digitized here when not
        given). Beat boxes are reported in the input image's pixels.
        """
        image = load_image(source)
        prepared = self.prepare(image)
        tiled = self.classify_tiled(image, record, prepared.get("tiled"))
        return self.combine(image, tiled, self.classify_fusion(image, prepared))

    def classify_fusion(self, image: np.ndarray, prepared: dict[str, Prepared] | None = None) -> FusionResult:
        """The fusion network alone on an RGB image (beat boxes in the image's pixels); it reads raw pixels only,
        so it can run while the digitizer works."""
        prepared = prepared or self.prepare(image)
        view = prepared["detector"]
        beats = self.detect_beats(view.image)  # boxes in the prepared image
        boxes = np.array([b.box for b in beats], dtype=np.float32).reshape(-1, 4)
        crops, mask = beat_crops(view.image, boxes)
        glob = global_image(prepared["fusion"].image)
        abnormal = float(self.fusion_probabilities(glob[None], crops[None], mask[None])[0])
        in_input = view.boxes_to_input(boxes)
        beats = tuple(
            Beat(tuple(round(float(v), 1) for v in box), beat.score) for box, beat in zip(in_input, beats, strict=True)
        )
        return FusionResult(
            abnormal_probability=round(abnormal, 4),
            label="abnormal" if abnormal >= self.fusion_threshold else "normal",
            threshold=self.fusion_threshold,
            beats=beats,
        )

    def combine(self, image: np.ndarray, tiled: TiledResult, fusion: FusionResult) -> ClassificationResult:
        """Both classifiers' results on ``image`` as one result."""
        return ClassificationResult(tiled, fusion, self.model_versions, (int(image.shape[0]), int(image.shape[1])))


_DEFAULT: dict[Path, Classifier] = {}


def classify_image(source: ImageSource | np.ndarray, *, models_dir: str | Path | None = None) -> ClassificationResult:
    """Classify one image with a process-wide :class:`Classifier` (models loaded on first use)."""
    key = resolve_models_dir(models_dir).resolve()
    if key not in _DEFAULT:
        _DEFAULT[key] = Classifier(key)
    return _DEFAULT[key].classify(source)
