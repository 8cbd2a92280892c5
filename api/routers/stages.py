"""``/api/v1/digitize``, ``/analyze``, ``/classify``: the single pipeline stages, answered synchronously.

Each answer is declared as a pydantic model (:mod:`api.schemas`) built from the stage result's one serialisation
(``report.sections.DigitizationSummary``, ``analysis_to_dict``, ``ClassificationResult.as_dict``). They bypass the
job queue but not the capacity limit: at most ``workers + queue_size`` stage requests run at once,
beyond that → 429. Nothing is stored: the upload lives in a temporary folder for the duration of the request.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.core.logging import get_logger
from api.deps import ApiKeyDep, ServicesDep, SettingsDep
from api.schemas import AnalyzeResponse, ClassifyResponse, DigitizeResponse
from api.uploads import read_upload
from ecg.errors import EcgInputError

router = APIRouter(prefix="/api/v1", tags=["stages"], dependencies=[ApiKeyDep])
log = get_logger()
RECORD_MEDIA = {"csv": "text/csv", "edf": "application/octet-stream", "json": "application/json"}


class _Slot:
    """Context manager holding one stage slot, or raising 429 when none is free."""

    def __init__(self, services) -> None:
        self.semaphore = services.stage_slots

    def __enter__(self) -> None:
        if not self.semaphore.acquire(blocking=False):
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many requests in progress; retry shortly",
                                headers={"Retry-After": "2"})

    def __exit__(self, *exc: object) -> None:
        self.semaphore.release()


EMPTY_UPLOAD = {"description": "The uploaded file is empty"}
DIGITIZE_EXAMPLE = {
    "record": {"format": "ecgscreen.record", "version": 1, "fs": 500.0, "units": "mV", "leads": {"I": [0.01, 0.02]},
               "meta": {"quality": 0.81, "lead_confidence": {"I": 0.93}, "lead_reasons": {}, "layout": "3x4+1",
                        "calibration": {"px_per_mm_x": 11.8, "px_per_mm_y": 11.8, "speed_mm_s": 25.0,
                                        "gain_mm_mv": 10.0, "scale_source": "grid", "speed_source": "pulse",
                                        "gain_source": "pulse"}}},
    "layout": "3x4+1", "px_per_mm": {"x": 11.8, "y": 11.8}, "speed_mm_s": 25.0, "gain_mm_mv": 10.0,
    "calibration_source": "grid", "lead_confidence": {"I": 0.93}, "lead_reasons": {}, "quality": 0.81,
    "warnings": [], "notes": [],
}


def _unprocessable(exc: EcgInputError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.post("/digitize", operation_id="digitize", summary="ECG image → 12-lead signals",
             response_model=DigitizeResponse, response_model_exclude_unset=True,
             responses={200: {"content": {"application/json": {"example": DIGITIZE_EXAMPLE}, "text/csv": {}}},
                 400: EMPTY_UPLOAD, 413: {}, 415: {}, 422: {"description": "No readable ECG in the image"}, 429: {}})
async def digitize(
    services: ServicesDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="ECG image (PNG, JPEG, TIFF, BMP, WebP, PDF)")],
    format: Annotated[Literal["json", "csv", "edf"], Query(description="json (with quality) or a file")] = "json",
) -> Response | dict[str, Any]:
    data, _ = await read_upload(file, settings.max_upload_bytes, accept=("image",))
    with _Slot(services):
        return await run_in_threadpool(_digitize, data, format)


def _digitize(data: bytes, format: str) -> Response | dict[str, Any]:
    import json

    from digitize.pipeline import digitize_image
    from ecg.io import write_record
    from report.sections import DigitizationSummary

    try:
        result = digitize_image(data)
    except EcgInputError as exc:
        raise _unprocessable(exc) from None
    with tempfile.TemporaryDirectory(prefix="ecgscreen-") as tmp:
        path = write_record(result.record, Path(tmp) / f"signals.{format}")
        content = path.read_bytes()
    if format != "json":
        return Response(content, media_type=RECORD_MEDIA[format],
                        headers={"Content-Disposition": f'attachment; filename="signals.{format}"'})
    return {"record": json.loads(content), **DigitizationSummary.of(result).to_dict()}


@router.post("/analyze", operation_id="analyze", summary="Signal record → measurements and findings",
             response_model=AnalyzeResponse, response_model_exclude_unset=True,
             responses={400: EMPTY_UPLOAD, 413: {}, 415: {},
                        422: {"description": "Unreadable record or invalid age/sex"}, 429: {}})
async def analyze(
    services: ServicesDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="Signal record: EDF/EDF+, CSV (ecgscreen contract) or JSON")],
    patient_age: Annotated[str | None, Form(max_length=10)] = None,
    patient_sex: Annotated[str | None, Form(max_length=10)] = None,
) -> dict[str, Any]:
    from report.model import Patient

    try:
        patient = Patient.from_user(age=patient_age, sex=patient_sex)
    except ValueError as exc:
        raise HTTPException(422, f"patient fields: {exc}") from None
    data, sniffed = await read_upload(file, settings.max_upload_bytes, accept=("record",))
    with _Slot(services):
        return await run_in_threadpool(_analyze, data, sniffed.suffix, patient)


def _analyze(data: bytes, suffix: str, patient) -> dict[str, Any]:
    from analyze import findings, measure
    from ecg.io import read_record
    from report.sections import analysis_to_dict

    with tempfile.TemporaryDirectory(prefix="ecgscreen-") as tmp:
        path = Path(tmp) / f"record{suffix}"
        path.write_bytes(data)
        try:
            record = read_record(path, fs=500.0)
            measurements = measure(record)
            found = findings(measurements, sex=patient.sex, age=patient.age)
        except EcgInputError as exc:
            raise _unprocessable(exc) from None
    return analysis_to_dict(measurements, found)


@router.post("/classify", operation_id="classify", summary="ECG image → both classifiers' outputs",
             response_model=ClassifyResponse, response_model_exclude_unset=True,
             responses={400: EMPTY_UPLOAD, 413: {}, 415: {}, 422: {}, 429: {},
                 503: {"description": "Classifier models not installed"}})
async def classify(
    services: ServicesDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="ECG image (PNG, JPEG, TIFF, BMP, WebP, PDF)")],
) -> dict[str, Any]:
    classifier = services.pipeline.classifier
    if classifier is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"classifiers unavailable: {services.pipeline.classifier_error}")
    data, _ = await read_upload(file, settings.max_upload_bytes, accept=("image",))
    with _Slot(services):
        return await run_in_threadpool(_classify, classifier, data)


def _classify(classifier: Any, data: bytes) -> dict[str, Any]:
    from digitize.load import load_image

    try:
        result = classifier.classify(load_image(data))
    except EcgInputError as exc:
        raise _unprocessable(exc) from None
    return result.as_dict()
