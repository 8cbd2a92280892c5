"""The model manifest (``models/manifest.json``): what each shipped ONNX file is, where it came from, its sha256.

One implementation for every package that ships a model (the digitizer's trace U-Net and orientation network, the
classifiers), so there is one file format and one integrity check. Like torchvision's weights enums, every entry
carries its provenance (training command, data, seed, metrics) and what the runtime needs (input spec, class names,
thresholds); :func:`verified_entry` refuses a file whose sha256 differs.

File layout::

    {"schema": 1, "models": {"tiled": {...ModelEntry...}, "trace_unet": {...}, ...}}
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ecg.errors import ModelError

SCHEMA = 1
MANIFEST_NAME = "manifest.json"
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
"""``<repo>/models``; override with the ``models_dir`` arguments or the ``ECGSCREEN_MODELS_DIR`` variable
(read in one place: :func:`resolve_models_dir`)."""
MODELS_DIR_ENV = "ECGSCREEN_MODELS_DIR"


def resolve_models_dir(models_dir: str | Path | None = None) -> Path:
    """The models folder: ``models_dir`` when given, else ``$ECGSCREEN_MODELS_DIR``, else ``<repo>/models``.

    The only place that reads the variable; every loader and check calls this.
    """
    return Path(models_dir or os.environ.get(MODELS_DIR_ENV) or DEFAULT_MODELS_DIR)


class ModelUnavailableError(ModelError):
    """A model file or its manifest entry is missing (the model has not been trained/exported here)."""


class ModelIntegrityError(ModelError):
    """A model file's sha256 differs from the manifest: the file is corrupt or was replaced."""


@dataclass(frozen=True)
class ModelEntry:
    """One shipped model: file, checksum, version, provenance and serving parameters."""

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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(models_dir: str | Path) -> dict[str, ModelEntry]:
    """Entries of ``<models_dir>/manifest.json`` by name (empty when the file does not exist)."""
    path = Path(models_dir) / MANIFEST_NAME
    if not path.exists():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    return {name: ModelEntry(**entry) for name, entry in document.get("models", {}).items()}


def write_entry(models_dir: str | Path, entry: ModelEntry) -> Path:
    """Add or replace ``entry`` in ``<models_dir>/manifest.json`` (other entries are kept; atomic replace)."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    entries = read_manifest(models_dir)
    entries[entry.name] = entry
    document = {"schema": SCHEMA, "models": {name: entries[name].as_dict() for name in sorted(entries)}}
    path = models_dir / MANIFEST_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(json_safe(document), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def json_safe(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by ``None`` (strict JSON), numpy scalars as Python numbers."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def verified_entry(models_dir: str | Path, name: str, *, missing_message: str = "") -> tuple[ModelEntry, Path]:
    """The manifest entry of ``name`` and its file path, after checking that the file exists and its sha256 matches.

    Raises
    ------
    ModelUnavailableError
        No manifest entry or no file (``missing_message``, else a line naming the file).
    ModelIntegrityError
        The file's sha256 differs from the manifest.
    """
    models_dir = Path(models_dir)
    entry = read_manifest(models_dir).get(name)
    if entry is None or not (models_dir / entry.file).exists():
        message = missing_message or f"model file {models_dir / (name + '.onnx')} is missing"
        raise ModelUnavailableError(message, (name,))
    path = models_dir / entry.file
    actual = sha256_file(path)
    if actual != entry.sha256:
        raise ModelIntegrityError(
            f"model file {path} has sha256 {actual}, but the manifest expects {entry.sha256}; "
            "the file is corrupt or was replaced (re-export it, or restore the shipped file)",
            (name,),
        )
    return entry, path


def verify_models(models_dir: str | Path | None = None) -> list[str]:
    """Check the sha256 of every model file listed in the manifest that exists on disk; the names checked.

    A missing file is not an error here (the service may run without classifiers); a present file whose checksum
    differs raises `ModelIntegrityError` naming the file, the expected and the actual sha256. Used before the service
    starts so a tampered or corrupted model stops it with one clear line.
    """
    models_dir = resolve_models_dir(models_dir)
    checked = []
    for name, entry in read_manifest(models_dir).items():
        if (models_dir / entry.file).exists():
            verified_entry(models_dir, name)
            checked.append(name)
    return checked
