"""``/livez``, ``/readyz`` (no key) and ``/metrics`` (Prometheus text, key required)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ApiKeyDep, ServicesDep

router = APIRouter(tags=["health"])


@router.get("/livez", operation_id="livez", summary="The process answers", responses={200: {"content": {
    "application/json": {"example": {"status": "ok"}}}}})
def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz", summary="Models loaded and the job store reachable",
            responses={200: {"content": {"application/json": {"example": {"ready": True, "classifiers": "loaded"}}}},
                       503: {"description": "Not ready; the body says why"}})
def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    reasons = []
    pipeline = services.pipeline
    integrity_error = getattr(request.app.state, "model_integrity_error", None)
    broken = dict(getattr(request.app.state, "broken_models", {}) or {})
    if integrity_error:  # a corrupt, replaced or unreadable model is never acceptable, whatever require_models says
        reasons.append(f"model integrity: {integrity_error}")
    if pipeline.classifier is None and services.settings.require_models:
        reasons.append(f"classifiers unavailable: {pipeline.classifier_error}")
    if not services.runner.executor.ready:
        reasons.append("job executor not ready")
    try:
        services.store.counts()
    except Exception as exc:  # noqa: BLE001 - any store failure means not ready
        reasons.append(f"job store unreachable ({type(exc).__name__})")
    body = {
        "ready": not reasons,
        "classifiers": "loaded" if pipeline.classifier is not None else "unavailable",
        "reasons": reasons,
        "broken_models": sorted(broken),
    }
    return JSONResponse(body, status_code=200 if not reasons else 503)


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics", dependencies=[ApiKeyDep],
            response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(services: ServicesDep) -> Response:
    services.metrics.queue_depth.set(services.runner.depth)
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
