"""Dependencies of the routes, as `Annotated` aliases so signatures read like sentences."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.core.config import Settings
from api.core.metrics import Metrics
from api.core.security import KeyRing
from api.jobs import PipelineLike
from api.runner import Runner
from api.store import JobStore
from api.webhook import WebhookSender

_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="One of the configured API keys.")
_bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token (for metric scrapers).")


@dataclass
class Services:
    """What the application builds at start-up (held on ``app.state.services``)."""

    settings: Settings
    store: JobStore
    runner: Runner
    pipeline: PipelineLike
    keys: KeyRing
    metrics: Metrics
    jobs_dir: Path
    stage_slots: threading.BoundedSemaphore | None = None
    webhooks: WebhookSender | None = None


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


def get_store(services: ServicesDep) -> JobStore:
    return services.store


def get_runner(services: ServicesDep) -> Runner:
    return services.runner


def require_api_key(
    services: ServicesDep,
    key: Annotated[str | None, Security(_key_header)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> None:
    """401 unless the request carries an accepted key in ``X-API-Key`` (or ``Authorization: Bearer``)."""
    given = key or (bearer.credentials if bearer else None)
    if not given:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key (header X-API-Key)",
                            headers={"WWW-Authenticate": "X-API-Key"})
    if not services.keys.accepts(given):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key",
                            headers={"WWW-Authenticate": "X-API-Key"})


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[JobStore, Depends(get_store)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
ApiKeyDep = Depends(require_api_key)
