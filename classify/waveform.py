"""Serve the waveform-feature classifier (``models/waveform.onnx``) with onnxruntime: features of a measured record
(:mod:`classify.features`) → gradient-boosted trees → probability per label (ABNORMAL and the cross-check's shared
labels).

>>> from classify.waveform import WaveformClassifier
>>> model = WaveformClassifier()                     # verifies the file against models/manifest.json
>>> result = model.classify(record, measurements)   # doctest: +SKIP
>>> result.probabilities["ABNORMAL"], result.labels  # doctest: +SKIP

The model is opened by the one model loader (:func:`ecg.models.open_model`: sha256 check, provider policy, cache);
its entry names the feature version and order it was trained with, and a mismatch refuses to load rather than
silently feeding columns in the wrong order. Labels that did not pass validation (AUROC ≥ 0.70 on ≥ 10 positives,
:func:`classify.manifest.validated_classes`) are reported but not counted in the cross-check.
Training: :mod:`classify.train.waveform`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analyze.measure import Measurements
from classify.features import FEATURE_NAMES, FEATURE_VERSION, record_features
from classify.manifest import ModelUnavailableError, validated_classes
from ecg.manifest import read_manifest, resolve_models_dir
from ecg.models import open_model
from ecg.record import EcgRecord

MODEL_NAME = "waveform"
TRAIN_HINT = (
    "python -m classify.train.waveform features --out out/waveform && "
    "python -m classify.train.waveform fit --features out/waveform"
)


@dataclass(frozen=True)
class WaveformResult:
    """Probability per label, the labels at or above their thresholds, the thresholds, and the validated labels."""

    probabilities: dict[str, float]
    labels: tuple[str, ...]
    thresholds: dict[str, float]
    validated: tuple[str, ...]
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "probabilities": dict(self.probabilities),
            "labels": list(self.labels),
            "thresholds": dict(self.thresholds),
            "validated": list(self.validated),
            "version": self.version,
        }


class WaveformClassifier:
    """``models/waveform.onnx``, loaded once and verified (sha256, feature version and order).

    Raises
    ------
    ModelUnavailableError
        The model or its manifest entry is missing, or it was trained on another feature version.
    ModelIntegrityError
        The file's sha256 differs from the manifest.
    """

    def __init__(self, models_dir: str | Path | None = None, *, threads: int | None = 1) -> None:
        self.models_dir = resolve_models_dir(models_dir)
        message = f"model file {self.models_dir / 'waveform.onnx'} is missing; train with: {TRAIN_HINT}"
        listed = read_manifest(self.models_dir).get(MODEL_NAME)  # checked before onnxruntime parses the file
        spec = listed.inputs.get("features", {}) if listed else {}
        if listed and (spec.get("feature_version") != FEATURE_VERSION
                       or list(spec.get("feature_names", [])) != list(FEATURE_NAMES)):
            raise ModelUnavailableError(
                f"{self.models_dir / listed.file} was trained on features {spec.get('feature_version')!r}, this code "
                f"computes {FEATURE_VERSION!r}; retrain with: {TRAIN_HINT}", (MODEL_NAME,)
            )
        loaded = open_model(MODEL_NAME, self.models_dir, threads=threads, missing_message=message)
        entry = loaded.entry
        self.session = loaded.session
        self.entry = entry
        self.classes = tuple(entry.classes)
        self.thresholds = {c: float(entry.thresholds[c]) for c in self.classes}
        self.validated = validated_classes(entry)

    @property
    def version(self) -> str:
        return self.entry.version

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, len(classes))`` for feature rows ``(n, len(FEATURE_NAMES))`` (NaN = missing)."""
        rows = np.asarray(features, dtype=np.float32).reshape(-1, len(FEATURE_NAMES))
        return self.session.run(None, {"features": rows})[0]

    def classify(self, record: EcgRecord, measurements: Measurements | None) -> WaveformResult:
        """Classify one record from its measurements (``None``: not measurable; the trees then see NaN)."""
        p = self.probabilities(record_features(record, measurements))[0]
        return self.result(p)

    def result(self, p: np.ndarray) -> WaveformResult:
        """:class:`WaveformResult` of one probability row."""
        probabilities = {c: round(float(v), 4) for c, v in zip(self.classes, p, strict=True)}
        labels = tuple(c for c in self.classes if probabilities[c] >= self.thresholds[c])
        return WaveformResult(probabilities, labels, dict(self.thresholds), self.validated, self.version)


__all__ = ["MODEL_NAME", "WaveformClassifier", "WaveformResult"]
