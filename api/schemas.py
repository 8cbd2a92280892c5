"""Pydantic response models of the HTTP API (the OpenAPI document and the clients generated from it use these).

The report itself is validated by ``report/schema.json`` (schema 1.0); here it is an object. The stage routes' answers
are declared in full (their summaries are the report's sections).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.store import JobState


class JobResponse(BaseModel):
    """A report job: its state, the error (failed jobs), links to its files and, when done, the report JSON."""

    id: str = Field(description="Job id (32 hex digits)")
    state: JobState
    created_utc: str
    updated_utc: str
    error: str | None = None
    links: dict[str, str]
    report: dict[str, Any] | None = Field(None, description="The report (report/schema.json, schema 1.x) when done")
    version: int | None = Field(None, description="The report version shown (1 = the automatic one)")
    latest_version: int | None = Field(None, description="The newest version (readers' corrections add versions)")

    model_config = {"json_schema_extra": {"examples": [{
        "id": "3f1c9a0e8b7d4c2a9e6f5d4c3b2a1908", "state": "done", "created_utc": "2025-01-01T00:00:00+00:00",
        "updated_utc": "2025-01-01T00:00:05+00:00", "error": None,
        "links": {"self": "/api/v1/reports/3f1c9a0e8b7d4c2a9e6f5d4c3b2a1908"},
        "report": {"schema": "ecgscreen.report", "status": {"screening": "normal"}}}]}}


# --- the stage routes (/api/v1/digitize, /analyze, /classify) -------------------------------------------------------
# The summaries mirror report/schema.json's "digitization", "measurements", "findings" and "classifiers" (a test checks
# each route's answer against both). Extra keys are kept (``extra="allow"``): a stage that adds an output passes it on.

Unit = Annotated[float, Field(ge=0, le=1)]
"""A probability, confidence or quality, 0–1."""


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CalibrationMeta(_Open):
    """The digitizer's scale and how each part was found (``grid``/``pulse``/``assumed``/…)."""

    px_per_mm_x: float = Field(gt=0)
    px_per_mm_y: float = Field(gt=0)
    speed_mm_s: float = Field(description="Paper speed (mm/s)")
    gain_mm_mv: float = Field(description="Gain (mm/mV)")
    scale_source: str
    speed_source: str
    gain_source: str


class DigitizedMeta(_Open):
    """``record.meta`` of a digitized record: what an app needs without the full report."""

    quality: Unit
    lead_confidence: dict[str, Unit]
    lead_reasons: dict[str, list[str]] = Field(description="Why a lead's confidence is not 1 (leads with reasons)")
    layout: str | None
    calibration: CalibrationMeta


class SignalRecord(_Open):
    """A signal record in the ``ecgscreen.record`` JSON form (ecg/formats/jsonfmt.py); NaN samples are null."""

    format: Literal["ecgscreen.record"]
    version: int
    fs: float = Field(gt=0, description="Sampling rate (Hz)")
    units: Literal["mV"]
    leads: dict[str, list[float | None]]
    meta: dict[str, Any]


class DigitizedRecord(SignalRecord):
    meta: DigitizedMeta  # type: ignore[assignment]  # narrowed: a digitized record always carries these


class PxPerMm(BaseModel):
    x: float = Field(gt=0)
    y: float = Field(gt=0)


class DigitizationSection(_Open):
    """The digitization summary (``report.sections.DigitizationSummary``; the report's ``digitization``)."""

    layout: str | None
    px_per_mm: PxPerMm
    speed_mm_s: float
    gain_mm_mv: float
    calibration_source: str
    lead_confidence: dict[str, Unit]
    lead_reasons: dict[str, list[str]]
    quality: Unit
    warnings: list[str]
    notes: list[str]
    panels: list[dict[str, Any]] = Field(default_factory=list, description="Read panels with boxes in overlay px")


class DigitizeResponse(DigitizationSection):
    """``POST /api/v1/digitize?format=json``: the record and the digitization summary."""

    record: DigitizedRecord


class MeasurementsSection(_Open):
    """Global measurements (``analyze.Measurements.to_dict``); null when not measurable. More keys follow."""

    heart_rate_bpm: float | None
    rr_mean_ms: float | None
    rr_sdnn_ms: float | None
    pr_ms: float | None
    qrs_ms: float | None
    qt_ms: float | None
    qtc_bazett_ms: float | None
    qtc_fridericia_ms: float | None
    p_axis_deg: float | None
    qrs_axis_deg: float | None
    t_axis_deg: float | None


class FindingSection(_Open):
    """One statement (``analyze.findings.Finding.to_dict``)."""

    code: str
    statement: str
    evidence: dict[str, Any]


class AnalyzeResponse(BaseModel):
    """``POST /api/v1/analyze``: measurements and findings."""

    measurements: MeasurementsSection
    findings: list[FindingSection]


class TiledSection(_Open):
    probabilities: dict[str, Unit]
    labels: list[str]
    thresholds: dict[str, float]
    validated: list[str] = Field(default_factory=list, description="Classes that passed validation")


class BeatBox(BaseModel):
    box: list[float] = Field(min_length=4, max_length=4, description="(x0, y0, x1, y1) input-image px")
    score: Unit


class FusionSection(_Open):
    abnormal_probability: Unit
    label: Literal["normal", "abnormal"]
    threshold: float
    beats: list[BeatBox]


class ImageSize(BaseModel):
    width: int = Field(ge=1)
    height: int = Field(ge=1)


class ClassifyResponse(_Open):
    """``POST /api/v1/classify``: the classifiers' outputs (``classify.runtime.ClassificationResult.as_dict``)."""

    tiled: TiledSection
    fusion: FusionSection
    model_versions: dict[str, str]
    image_size: ImageSize
