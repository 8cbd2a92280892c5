"""``/api/v1/reports/{id}/corrections`` and ``/versions``: a reader corrects a finished report (issue 19).

A correction (layout, a panel's lead name, the lead order, speed, gain, rhythm-strip leads, excluded leads, a note)
re-runs the pipeline from the stored image with the reader's settings and stores the result as a new version; every
version keeps its JSON and files. Settings add up: version N+1 = version N's settings + the correction.

It runs synchronously within the stage capacity (``workers + queue_size`` at once, beyond → 429). Conflicts answer
409 and change nothing: a report not yet done, a correction already being made, or a ``base_version`` that is no
longer the latest (two readers correcting the same version: the second is told to reload).
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.core.logging import get_logger
from api.deps import ApiKeyDep, ServicesDep, StoreDep
from api.jobs import patient_from_dict, write_report_files
from api.routers.reports import _job_or_404, job_body
from api.routers.stages import _Slot
from api.store import Job, VersionConflictError
from api.versions import finished_versions, version_dir, versioned_body
from ecg.errors import EcgInputError
from report.corrections import Correction, Hints, apply_correction

router = APIRouter(prefix="/api/v1/reports", tags=["corrections"], dependencies=[ApiKeyDep])
log = get_logger()
STALE_AFTER = timedelta(minutes=15)
"""A version still ``running`` after this long was left by a crashed process; it no longer blocks corrections."""


def reader_label(request: Request, services: Any) -> str:
    """Who is correcting: the label of the request's API key (`api.core.security.KeyRing.label`)."""
    key = request.headers.get("X-API-Key")
    if not key:
        auth = request.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    return services.keys.label(key)


@router.post(
    "/{job_id}/corrections",
    operation_id="correct_report",
    summary="Correct a finished report (lead names, layout, speed, gain, excluded leads): a new version",
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {"description": "The new version (its `report.review` says what changed, by whom, when)"},
        400: {"description": "The body is not JSON"},
        401: {"description": "Missing or invalid API key"},
        404: {"description": "No such report (or it was deleted)"},
        409: {"description": "Report not done, a correction in progress, or `base_version` is not the latest"},
        422: {"description": "Unknown lead name, impossible speed or gain, nothing to change, a signal record, or "
                             "settings the image cannot be read with (e.g. lead count ≠ panel count)"},
        429: {"description": "Too many requests in progress; see `Retry-After`"},
    },
)
async def correct_report(
    request: Request, services: ServicesDep, store: StoreDep, job_id: str, correction: Correction
) -> JSONResponse:
    job = _job_or_404(store, job_id)
    if job.state != "done":
        raise HTTPException(status.HTTP_409_CONFLICT, f"the report is {job.state}; correct it once it is done")
    if job.kind != "image":
        raise HTTPException(422, "only reports made from an image can be corrected (this one is a signal record)")
    versions = _without_stale(store, store.versions(job.id))
    running = [v.version for v in versions if v.state == "running"]
    if running:
        raise HTTPException(status.HTTP_409_CONFLICT, f"version {running[0]} is being made by another correction; "
                            "reload when it is done and correct that")
    done = [v for v in versions if v.state == "done"]
    latest = done[-1].version if done else 1
    if correction.base_version is not None and correction.base_version != latest:
        raise HTTPException(status.HTTP_409_CONFLICT, f"version {correction.base_version} is not the latest "
                            f"(version {latest} was made meanwhile); reload it and correct that")
    previous = done[-1].settings if done else ((job.report or {}).get("review") or {}).get("user_set") or {}
    try:
        hints, changed = apply_correction(Hints.from_dict(previous), correction)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    version = latest + 1
    record = {"changed": changed, "by": reader_label(request, services),
              "at": datetime.now(UTC).isoformat(timespec="seconds"), "note": correction.note, "from_version": latest}
    review = {"version": version, "user_set": hints.to_dict(), "corrections": record}
    with _Slot(services):
        try:
            store.begin_version(job.id, version, hints.to_dict(), record)
        except VersionConflictError:
            raise HTTPException(status.HTTP_409_CONFLICT, f"another correction made version {version} meanwhile; "
                                "reload it and correct that") from None
        folder = version_dir(services.jobs_dir, job.id, version)
        try:
            report = await run_in_threadpool(_make_version, services, job, folder, hints, review)
        except EcgInputError as exc:
            _forget(store, job.id, version, folder)
            raise HTTPException(422, f"the image cannot be read with these settings: {exc}") from None
        except BaseException:
            _forget(store, job.id, version, folder)
            raise
        if store.get(job.id) is None:  # deleted while the correction ran: keep nothing
            _forget(store, job.id, version, folder)
            raise HTTPException(status.HTTP_404_NOT_FOUND, "the report was deleted while it was being corrected")
        store.finish_version(job.id, version, report)
    log.info("report corrected", extra={"job_id": job.id, "version": version, "changed": changed})
    body = versioned_body(job_body(request, job), store, job, services.jobs_dir, version)
    return JSONResponse(body, status_code=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/reports/{job.id}?version={version}"})


@router.get("/{job_id}/versions", operation_id="list_report_versions", summary="The versions of a report",
            responses={404: {}})
def list_versions(store: StoreDep, job_id: str) -> JSONResponse:
    job = _job_or_404(store, job_id)
    base = f"/api/v1/reports/{job.id}"
    items = [{"version": 1, "state": job.state, "created_utc": job.created_utc, "corrections": None,
              "links": {"self": f"{base}?version=1"}}]
    for v in store.versions(job.id) if job.state == "done" else []:
        items.append({"version": v.version, "state": v.state, "created_utc": v.created_utc,
                      "corrections": v.correction, "links": {"self": f"{base}?version={v.version}"}})
    latest = max((v.version for v in finished_versions(store, job)), default=1)
    return JSONResponse({"id": job.id, "latest_version": latest, "versions": items})


def _make_version(services: Any, job: Job, folder, hints: Hints, review: dict[str, Any]) -> dict[str, Any]:
    """Re-run the pipeline on the stored input with ``hints``; write the version's files into ``folder``."""
    source = services.jobs_dir / job.id / job.input_name
    result = services.pipeline.run(source, patient=patient_from_dict(job.patient), hints=hints)
    result = dataclasses.replace(result, report=dataclasses.replace(result.report, id=job.id, review=review))
    return write_report_files(result, folder)


def _forget(store, job_id: str, version: int, folder) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    try:
        store.drop_version(job_id, version)
    except Exception:  # noqa: BLE001 - a stale row is cleared after STALE_AFTER anyway
        log.exception("could not drop a failed version", extra={"job_id": job_id, "version": version})


def _without_stale(store, versions: list) -> list:
    cutoff = (datetime.now(UTC) - STALE_AFTER).isoformat(timespec="milliseconds")
    kept = []
    for v in versions:
        if v.state == "running" and v.updated_utc < cutoff:
            store.drop_version(v.id, v.version)
            continue
        kept.append(v)
    return kept
