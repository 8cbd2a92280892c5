"""Report versions (issue 19): which version a request means, its JSON body, its folder of files.

Version 1 is the job's own report, its files in ``<jobs>/<id>/``; a reader correction makes version 2, 3, … (rows
of the store's ``report_versions`` table, files in ``<jobs>/<id>/v<N>/``). Without ``?version=N`` the latest
finished version is meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import HTTPException, status

from api.jobs import ARTIFACTS
from api.store import Job, JobStore, ReportVersion


def version_dir(jobs_dir: Path, job_id: str, version: int) -> Path:
    """Folder of a version's files."""
    return jobs_dir / job_id if version == 1 else jobs_dir / job_id / f"v{version}"


def finished_versions(store: JobStore, job: Job) -> list[ReportVersion]:
    return [v for v in store.versions(job.id) if v.state == "done"] if job.state == "done" else []


def resolve_version(store: JobStore, job: Job, version: int | None) -> tuple[int, int, ReportVersion | None]:
    """(the version meant, the latest finished version, its row or None for version 1); 404 for an unknown one."""
    done = finished_versions(store, job)
    latest = done[-1].version if done else 1
    want = latest if version is None else version
    if want == 1:
        return 1, latest, None
    match = next((v for v in done if v.version == want), None)
    if match is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"this report has no version {want} (latest: {latest})")
    return want, latest, match


def versioned_body(body: dict[str, Any], store: JobStore, job: Job, jobs_dir: Path, version: int | None) -> dict:
    """``body`` (the job's own JSON, `api.routers.reports.job_body`) for the version meant, with ``version``,
    ``latest_version`` and links to that version's files."""
    want, latest, row = resolve_version(store, job, version)
    out = dict(body, version=want, latest_version=latest)
    base = f"/api/v1/reports/{job.id}"
    if row is not None:
        folder = version_dir(jobs_dir, job.id, want)
        links = {"self": f"{base}?version={want}"}
        links.update({name: f"{base}/{name}?version={want}" for name, (file, _) in ARTIFACTS.items()
                      if (folder / file).exists()})
        out.update(report=row.report, updated_utc=row.updated_utc, links=links)
    elif version is not None and job.state == "done":
        out["links"] = {k: (f"{v}?version=1") for k, v in body["links"].items()}
    if job.state == "done" and job.kind == "image":
        out["links"] = {**out["links"], "corrections": f"{base}/corrections", "versions": f"{base}/versions",
                        "review": f"/review/{job.id}"}
    return out


def versioned_file(jobs_dir: Path, store: JobStore, job: Job, file_name: str, version: int | None) -> Path:
    """Path of ``file_name`` in the folder of the version meant (it may not exist)."""
    want, _, _ = resolve_version(store, job, version)
    return version_dir(jobs_dir, job.id, want) / file_name
