"""The classifiers' view of the model manifest (:mod:`ecg.manifest`): their names, how to make a missing one, and
which classes passed validation.

The manifest itself (entry fields, sha256 check, reading and writing ``models/manifest.json``) lives in
:mod:`ecg.manifest`, shared with the digitizer's models; its names are re-exported here for the classify code.
"""

from __future__ import annotations

from pathlib import Path

from ecg.manifest import (
    DEFAULT_MODELS_DIR,
    MANIFEST_NAME,
    SCHEMA,
    ModelEntry,
    ModelIntegrityError,
    ModelUnavailableError,
    json_safe,
    read_manifest,
    sha256_file,
    verify_models,
    write_entry,
)
from ecg.manifest import verified_entry as _verified_entry

__all__ = [
    "DEFAULT_MODELS_DIR",
    "MANIFEST_NAME",
    "MIN_VALIDATION_AUROC",
    "MIN_VALIDATION_SUPPORT",
    "MODEL_NAMES",
    "SCHEMA",
    "TRAIN_HINTS",
    "ModelEntry",
    "ModelIntegrityError",
    "ModelUnavailableError",
    "json_safe",
    "missing_models_message",
    "read_manifest",
    "sha256_file",
    "validated_classes",
    "verified_entry",
    "verify_models",
    "write_entry",
]

MODEL_NAMES = ("tiled", "detector", "fusion")

TRAIN_HINTS = {
    "tiled": "python -m classify.train.canonical_data … && python -m classify.train.tiled_canonical … "
    "&& python -m classify.train.export --tiled RUN_DIR",
    "detector": "python -m classify.train.detector … && python -m classify.train.export --detector RUN_DIR",
    "fusion": "python -m classify.train.fusion … && python -m classify.train.export --fusion RUN_DIR",
}

MIN_VALIDATION_SUPPORT = 10
"""Positive validation examples a class needs before its output may count in the cross-check and the status."""
MIN_VALIDATION_AUROC = 0.70
"""Validation AUROC a class needs before its output may count in the cross-check and the status."""


def missing_models_message(models_dir: Path, names: list[str] | tuple[str, ...]) -> str:
    """One line naming the missing model files and the commands that make them."""
    files = ", ".join(str(Path(models_dir) / f"{n}.onnx") for n in names)
    hints = "; ".join(TRAIN_HINTS[n] for n in names)
    verb = "is" if len(names) == 1 else "are"
    return f"model file{'s' if len(names) > 1 else ''} {files} {verb} missing; train with: {hints}"


def verified_entry(models_dir: str | Path, name: str) -> tuple[ModelEntry, Path]:
    """:func:`ecg.manifest.verified_entry` whose missing-model message says how to train and export ``name``."""
    return _verified_entry(models_dir, name, missing_message=missing_models_message(Path(models_dir), [name]))


def validated_classes(entry: ModelEntry) -> tuple[str, ...]:
    """Classes of a multi-label model whose validation figures (``metrics.per_class`` of its manifest entry) reach
    AUROC ≥ :data:`MIN_VALIDATION_AUROC` on ≥ :data:`MIN_VALIDATION_SUPPORT` positives; the others are shown in
    reports but do not count (a class the model has not learned must not drive a screening decision)."""
    per_class = entry.metrics.get("per_class", {})
    passed = []
    for name in entry.classes:
        figures = per_class.get(name) or {}
        auroc, support = figures.get("auroc"), figures.get("support") or 0
        if auroc is not None and auroc >= MIN_VALIDATION_AUROC and support >= MIN_VALIDATION_SUPPORT:
            passed.append(name)
    return tuple(passed)
