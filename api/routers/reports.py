"""``/api/v1/reports``: submit an ECG for a full report, follow the job, fetch its files, erase it."""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from api.core.logging import get_logger
from api.deps import ApiKeyDep, RunnerDep, ServicesDep, SettingsDep, StoreDep
from api.jobs import ARTIFACTS
from api.runner import QueueFullError
from api.schemas import JobResponse
from api.store import Job
from api.uploads import read_upload
from api.versions import versioned_body, versioned_file
from api.webhook import WebhookUrlError, check_webhook_url
from report.model import MAX_INPUT_CHARS, Patient

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[ApiKeyDep])
log = get_logger()
JOB_ID = re.compile(r"^[0-9a-f]{32}$")

EXAMPLE_JOB = {
    "id": "3f1c9a0e8b7d4c2a9e6f5d4c3b2a1908",
    "state": "done",
    "created_utc": "2026-11-22T03:00:00.000+00:00",
    "updated_utc": "2026-11-22T03:00:02.000+00:00",
    "error": None,
    "links": {
        "self": "/api/v1/reports/3f1c9a0e8b7d4c2a9e6f5d4c3b2a1908",
        "pdf": "/api/v1/reports/3f1c9a0e8b7d4c2a9e6f5d4c3b2a1908/pdf",
    },
    "report": {"schema": "ecgscreen.report", "status": {"screening": "normal"}},
}


def job_body(request: Request, job: Job) -> dict[str, Any]:
    """The JSON describing a job: state, error, links to its files and (when done) the report."""
    base = f"/api/v1/reports/{job.id}"
    links = {"self": base}
    if job.state == "done":
        folder = request.app.state.services.jobs_dir / job.id
        links.update({name: f"{base}/{name}" for name, (file, _) in ARTIFACTS.items() if (folder / file).exists()})
    return {
        "id": job.id,
        "state": job.state,
        "created_utc": job.created_utc,
        "updated_utc": job.updated_utc,
        "error": job.error,
        "links": links,
        "report": job.report,
    }


def _job_or_404(store, job_id: str) -> Job:
    job = store.get(job_id) if JOB_ID.match(job_id) else None
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report")
    return job


@router.post(
    "",
    operation_id="create_report",
    summary="Submit an ECG image or signal record for a full report",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"description": "Finished within the wait time (`?wait=true`)", "content": {"application/json": {
            "example": EXAMPLE_JOB}}},
        202: {"description": "Accepted; poll the `Location`", "content": {"application/json": {"example": {
            **EXAMPLE_JOB, "state": "queued", "report": None, "links": {"self": EXAMPLE_JOB["links"]["self"]}}}}},
        400: {"description": "The uploaded file is empty"},
        401: {"description": "Missing or invalid API key"},
        413: {"description": "Upload larger than ECGSCREEN_MAX_UPLOAD_MB"},
        415: {"description": "Content is neither an image nor a signal record"},
        422: {"description": "Invalid patient fields or callback URL, or (with wait) an unreadable ECG"},
        429: {"description": "Job queue full; see `Retry-After`"},
        503: {"description": "Job database locked by another process (see `Retry-After`), or (with wait) a model "
              "fault: the body names the model"},
        507: {"description": "No space left on the data disk; nothing was stored"},
    },
)
async def create_report(
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    store: StoreDep,
    runner: RunnerDep,
    file: Annotated[UploadFile, File(description="ECG image (PNG, JPEG, TIFF, BMP, WebP, PDF) or record (EDF, CSV, "
                                                 "JSON); the type is detected from the content")],
    patient_id: Annotated[str | None, Form(max_length=MAX_INPUT_CHARS, examples=["A-1042"])] = None,
    patient_name: Annotated[str | None, Form(max_length=MAX_INPUT_CHARS, examples=["Jane Doe"])] = None,
    patient_age: Annotated[str | None, Form(max_length=10, examples=["56"])] = None,
    patient_sex: Annotated[str | None, Form(max_length=10, examples=["F"])] = None,
    callback_url: Annotated[str | None, Form(max_length=2000, description="Webhook called when the job ends "
                                                                         "(HMAC-signed)")] = None,
    wait: Annotated[bool, Query(description="Hold the request until the report is ready (bounded)")] = False,
    timeout: Annotated[float | None, Query(gt=0, le=600, description="Wait at most this long (s)")] = None,
) -> Response:
    try:
        patient = Patient.from_user(patient_id, patient_name, patient_age, patient_sex)
    except ValueError as exc:
        raise HTTPException(422, f"patient fields: {exc}") from None
    if callback_url:
        try:
            check_webhook_url(callback_url, secret=settings.webhook_secret, allowed_hosts=settings.webhook_hosts)
        except WebhookUrlError as exc:
            raise HTTPException(422, str(exc)) from None
    data, sniffed = await read_upload(file, settings.max_upload_bytes)
    try:
        runner.check_capacity()
    except QueueFullError as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc),
                            headers={"Retry-After": str(exc.retry_after_s)}) from None

    job_id = secrets.token_hex(16)
    job_dir = services.jobs_dir / job_id
    input_name = "input" + sniffed.suffix
    try:  # disk full (507) or database locked (503): take back whatever was written, then answer
        job_dir.mkdir(parents=True)
        (job_dir / input_name).write_bytes(data)
        store.create(job_id, input_name=input_name, kind=sniffed.kind, patient=patient.to_dict(),
                     webhook_url=callback_url or None)
    except Exception:
        shutil.rmtree(job_dir, ignore_errors=True)
        with contextlib.suppress(Exception):  # the row, if the insert went through before the failure
            store.delete(job_id)
        raise
    try:
        runner.submit(job_id)
    except QueueFullError as exc:  # lost the race for the last slot: take everything back
        store.delete(job_id)
        shutil.rmtree(job_dir, ignore_errors=True)
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc),
                            headers={"Retry-After": str(exc.retry_after_s)}) from None
    log.info("job accepted", extra={"job_id": job_id, "bytes": len(data), "format": sniffed.format})

    location = f"/api/v1/reports/{job_id}"
    if wait:
        limit = min(timeout or settings.wait_timeout_s, settings.wait_timeout_s)
        await run_in_threadpool(runner.wait, job_id, limit)
    job = store.get(job_id)
    assert job is not None
    body = job_body(request, job)
    if job.state == "done":
        return JSONResponse(body, status_code=status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED,
                            headers={"Location": location})
    if job.state == "failed" and wait and (job.error or "").startswith("input refused"):
        store.delete(job_id)  # the answer carries the reason: a refused input leaves no row and no file behind
        shutil.rmtree(job_dir, ignore_errors=True)
        return JSONResponse({"detail": job.error, **body, "links": {}}, status_code=422)
    if job.state == "failed" and wait:
        error = job.error or ""
        codes = {"input refused": 422, "storage full": 507, "model unavailable": 503}
        code = next((c for prefix, c in codes.items() if error.startswith(prefix)), 500)
        return JSONResponse({"detail": job.error, **body}, status_code=code, headers={"Location": location})
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED, headers={"Location": location})


@router.get("/{job_id}", operation_id="get_report", summary="Job state and, when done, the report JSON",
            response_model=JobResponse, responses={404: {}})
def get_report(
    request: Request, store: StoreDep, job_id: str,
    version: Annotated[int | None, Query(ge=1, le=100_000, description="A version (default: the latest)")] = None,
) -> JobResponse:
    job = _job_or_404(store, job_id)
    jobs_dir = request.app.state.services.jobs_dir
    return JobResponse(**versioned_body(job_body(request, job), store, job, jobs_dir, version))


@router.get("/{job_id}/{artifact}", operation_id="get_report_file",
            summary="A file of a finished report: pdf, overlay.png, signals.csv or signals.edf",
            responses={200: {"content": {"application/pdf": {}, "image/png": {}, "text/csv": {}}},
                       404: {"description": "Unknown report, or a file this report does not have"},
                       409: {"description": "The report is not finished"}})
def get_report_file(
    services: ServicesDep, store: StoreDep, job_id: str, artifact: str,
    version: Annotated[int | None, Query(ge=1, le=100_000, description="A version (default: the latest)")] = None,
) -> FileResponse:
    if artifact not in ARTIFACTS:
        names = ", ".join(ARTIFACTS)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown file {artifact[:40]!r}; one of: {names}")
    job = _job_or_404(store, job_id)
    if job.state != "done":
        raise HTTPException(status.HTTP_409_CONFLICT, f"the report is {job.state}, not done")
    file_name, media_type = ARTIFACTS[artifact]
    path = versioned_file(services.jobs_dir, store, job, file_name, version)
    if not path.exists():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"this report has no {artifact} (input kind: {job.kind})")
    download = f"ecg-{job.id}-{file_name}"
    return FileResponse(path, media_type=media_type, filename=download,
                        content_disposition_type="inline" if artifact in ("pdf", "overlay.png") else "attachment")


@router.delete("/{job_id}", operation_id="delete_report", status_code=status.HTTP_204_NO_CONTENT,
               summary="Erase a report, its input and its files", responses={404: {}})
def delete_report(services: ServicesDep, store: StoreDep, job_id: str) -> Response:
    job = _job_or_404(store, job_id)
    store.delete(job.id)
    shutil.rmtree(services.jobs_dir / job.id, ignore_errors=True)
    log.info("job deleted", extra={"job_id": job.id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
