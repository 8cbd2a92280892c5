"""Typed report sections built from stage results, each with one serialisation (``to_dict``, the schema 1.0 form).

The stages' own results serialise themselves (``Measurements.to_dict``, ``Finding.to_dict``,
``ClassificationResult.as_dict``, ``WaveformResult.to_dict``, ``CrossCheck.to_dict``); the sections here summarise
what the report needs from the input, the digitizer and the classifiers, and :class:`StageOutputs` carries every
stage's outcome into the report. :class:`report.model.Report` holds these typed objects and serialises them only in
``Report.to_dict``. The stage routes (``api/routers/stages.py``) and the CLI use the same forms, so each stage result
has one serialisation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # types only: importing this module loads no pipeline and no onnxruntime
    import numpy as np

    from analyze import Measurements
    from analyze.findings import Finding
    from classify.runtime import ClassificationResult
    from classify.waveform import WaveformResult
    from digitize.pipeline import Digitization
    from ecg.record import EcgRecord

from report.corrections import panel_boxes  # noqa: E402  (after the type-only imports)

InputKind = Literal["image", "signal"]
LOW_CONFIDENCE = 0.5
"""Lead confidence below which a lead is listed as low confidence."""


@dataclass(frozen=True)
class InputSummary:
    """The input file: kind, name, sha256 and (images) the size in px."""

    kind: InputKind
    file_name: str
    sha256: str
    image_size: tuple[int, int] | None = None
    """(width, height) px, images only."""

    @classmethod
    def of(cls, path: Path, kind: InputKind, image: np.ndarray | None) -> InputSummary:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        size = (int(image.shape[1]), int(image.shape[0])) if image is not None and kind == "image" else None
        return cls(kind, path.name, digest.hexdigest(), size)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "file_name": self.file_name, "sha256": self.sha256}
        if self.image_size is not None:
            out["image_size"] = {"width": self.image_size[0], "height": self.image_size[1]}
        return out


@dataclass(frozen=True)
class DigitizationSummary:
    """What the report says about the digitization: layout, scale, leads' confidence, quality, warnings, notes."""

    layout: str | None
    px_per_mm: tuple[float, float]
    """(x, y) px/mm, rounded to 3 decimals."""
    speed_mm_s: float
    gain_mm_mv: float
    calibration_source: str
    lead_confidence: dict[str, float]
    lead_reasons: dict[str, list[str]]
    quality: float
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """Quality and calibration notes, each once."""
    panels: tuple[dict[str, Any], ...] = ()
    """Every read panel with its box in the overlay's pixels (:func:`report.corrections.panel_boxes`)."""
    low_confidence: tuple[str, ...] = ()
    """Leads with confidence below :data:`LOW_CONFIDENCE`, sorted (serialised inside ``warnings``)."""

    @classmethod
    def of(cls, d: Digitization) -> DigitizationSummary:
        cal = d.calibration
        warnings = []
        low = sorted(name for name, v in d.lead_confidence.items() if v < LOW_CONFIDENCE)
        if low:
            warnings.append("low confidence leads: " + ", ".join(low))
        if cal.source != "grid":
            warnings.append(f"scale from the {cal.source}, not from a measured grid")
        notes = list(dict.fromkeys([*d.quality_notes, *cal.notes]))  # the quality notes repeat the calibration's
        return cls(
            layout=getattr(d.layout, "template", None),
            px_per_mm=(round(float(cal.px_per_mm_x), 3), round(float(cal.px_per_mm_y), 3)),
            speed_mm_s=float(cal.speed_mm_s),
            gain_mm_mv=float(cal.gain_mm_mv),
            calibration_source=str(cal.source),
            lead_confidence={k: round(float(v), 3) for k, v in d.lead_confidence.items()},
            lead_reasons={k: list(v) for k, v in d.lead_reasons.items() if v},
            quality=round(float(d.quality), 3),
            warnings=tuple(warnings),
            notes=tuple(notes),
            panels=tuple(panel_boxes(d.layout, d.homography, d.lead_confidence)),
            low_confidence=tuple(low),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "px_per_mm": {"x": self.px_per_mm[0], "y": self.px_per_mm[1]},
            "speed_mm_s": self.speed_mm_s,
            "gain_mm_mv": self.gain_mm_mv,
            "calibration_source": self.calibration_source,
            "lead_confidence": dict(self.lead_confidence),
            "lead_reasons": {k: list(v) for k, v in self.lead_reasons.items()},
            "quality": self.quality,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "panels": [dict(p) for p in self.panels],
        }


@dataclass(frozen=True)
class ClassifierOutputs:
    """The report's ``classifiers``: the image classifiers' answers (when they ran), the waveform-feature
    classifier's (when it ran) and the versions of every model that spoke, the screening model's included."""

    image: ClassificationResult | None
    waveform: WaveformResult | None = None
    screening_version: str | None = None
    """Version of the screening model (it gives the status, not a section of its own)."""

    @classmethod
    def of(
        cls, image: ClassificationResult | None, waveform: WaveformResult | None, screening_version: str | None = None
    ) -> ClassifierOutputs | None:
        """``None`` when no classifier spoke."""
        if image is None and waveform is None:
            return None
        return cls(image, waveform, screening_version)

    @property
    def model_versions(self) -> dict[str, str]:
        versions = dict(self.image.model_versions) if self.image is not None else {}
        if self.waveform is not None:
            versions["waveform"] = self.waveform.version
        if self.screening_version is not None:
            versions["screening"] = self.screening_version
        return versions

    def to_dict(self) -> dict[str, Any]:
        out = self.image.as_dict() if self.image is not None else {"model_versions": {}}
        if self.waveform is not None:
            out["waveform"] = self.waveform.to_dict()
        out["model_versions"] = self.model_versions
        return out


def analysis_to_dict(measurements: Measurements, found: list[Finding]) -> dict[str, Any]:
    """The analysis stage's JSON form, ``{"measurements": …, "findings": […]}`` (HTTP ``/analyze``, ``ecgscreen
    analyze``); the report carries the same two parts as its ``measurements`` and ``findings``."""
    return {"measurements": measurements.to_dict(), "findings": [f.to_dict() for f in found]}


@dataclass
class StageOutputs:
    """Every stage's outcome for one input, gathered by the pipeline before the report is assembled."""

    path: Path
    kind: InputKind
    record: EcgRecord
    image: np.ndarray | None
    started: float
    """``time.perf_counter()`` when the run began."""
    digitization: Digitization | None = None
    classification: ClassificationResult | None = None
    measurements: Measurements | None = None
    findings: list[Finding] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
