"""Pydantic response models of the HTTP API (the OpenAPI document and the clients generated from it use these).

The report itself is validated by ``report/schema.json`` (schema 1.0); here it is an object.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

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
