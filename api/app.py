"""The FastAPI application: `create_app` wires settings, job store, pipeline, runner and routers.

    uvicorn --factory api.app:create_app        # or: ecgscreen serve --host 127.0.0.1 --port 8000

Start-up builds everything once (models load once per process, or once per Ray worker with
``ECGSCREEN_RAY_ADDRESS``); shutdown lets running jobs finish while queued ones wait in the store for the next start.

A model file whose sha256 differs from the manifest, or that onnxruntime cannot open, stops start-up
(``ecg.errors.ModelError``); with ``ECGSCREEN_REQUIRE_MODELS=false`` the service starts without classifiers instead
and ``/readyz`` answers 503 naming the broken model. Faults map to clear answers: a model fault → 503 with the reason
(never 422, which means bad input), disk full → 507, job database locked → 503 with ``Retry-After``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api.core.config import Settings
from api.core.logging import configure_logging, get_logger, request_id
from api.core.metrics import Metrics
from api.core.security import KeyRing
from api.deps import Services
from api.jobs import PipelineLike
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from api.routers import corrections, health, page, reports, review, stages
from api.runner import Executor, LocalExecutor, Runner, is_disk_full
from api.store import Job, StoreBusyError, open_store
from api.webhook import WebhookSender
from ecg.errors import EcgInputError, ModelError

log = get_logger()
MULTIPART_OVERHEAD = 256 * 1024
"""Bytes allowed on top of the upload limit for multipart framing and the form fields."""


def default_pipeline(settings: Settings) -> PipelineLike:
    from report.pipeline import Pipeline

    return Pipeline(settings.models_dir, saliency=settings.saliency, threads=settings.threads)


def _pipeline_or_refusal(
    app: FastAPI, settings: Settings, factory: Callable[[Settings], PipelineLike]
) -> PipelineLike:
    """Build the pipeline; on a corrupt model file raise, or (``require_models=false``) run without classifiers."""
    app.state.model_integrity_error = None
    app.state.broken_models = {}
    try:
        return factory(settings)
    except ModelError as exc:
        log.error("model check failed", extra={"reason": str(exc)})
        if settings.require_models:
            raise
        app.state.model_integrity_error = str(exc)
        app.state.broken_models = {name: str(exc) for name in exc.names}
        from report.pipeline import Pipeline

        pipeline = Pipeline(settings.data_dir / "no-models", saliency=False, threads=settings.threads)
        pipeline.classifier, pipeline.classifier_error = None, str(exc)
        return pipeline


def _executor(settings: Settings, pipeline: PipelineLike) -> Executor:
    if settings.ray_address:
        from api.ray_exec import RayExecutor

        return RayExecutor(settings)
    return LocalExecutor(pipeline)


def create_app(
    settings: Settings | None = None, *, pipeline_factory: Callable[[Settings], PipelineLike] | None = None
) -> FastAPI:
    """Build the application. ``pipeline_factory`` lets tests supply a stand-in pipeline."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    metrics = Metrics.create()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs_dir = settings.data_dir / "jobs"
        jobs_dir.mkdir(parents=True, exist_ok=True)
        pipeline = _pipeline_or_refusal(app, settings, pipeline_factory or default_pipeline)
        store = open_store(settings.data_dir, settings.database_url, busy_timeout_s=settings.db_busy_timeout_s)
        if pipeline.classifier is None:
            log.warning("classifiers unavailable", extra={"reason": pipeline.classifier_error})
        keys = KeyRing(settings.api_keys, settings.api_keys_file)
        if not keys.configured:
            log.warning("no API keys configured: every protected route answers 401")
        sender = None
        if settings.webhook_secret:
            sender = WebhookSender(settings.webhook_secret, attempts=settings.webhook_attempts,
                                   backoff_s=settings.webhook_backoff_s,
                                   on_outcome=lambda outcome: metrics.webhooks.labels(outcome).inc())

        def on_finished(job: Job) -> None:
            if sender and job.webhook_url:
                sender.send(job.webhook_url, webhook_payload(job))

        runner = Runner(store, jobs_dir, _executor(settings, pipeline), workers=settings.workers,
                        queue_size=settings.queue_size, max_attempts=settings.max_attempts,
                        retention_days=settings.retention_days, metrics=metrics,
                        on_finished=on_finished)
        app.state.services = Services(settings, store, runner, pipeline, keys, metrics, jobs_dir,
                                      stage_slots=threading.BoundedSemaphore(settings.workers + settings.queue_size),
                                      webhooks=sender)
        runner.start()
        log.info("service started", extra={"workers": settings.workers, "queue_size": settings.queue_size,
                                           "store": type(store).__name__, "ray": bool(settings.ray_address)})
        try:
            yield
        finally:
            runner.stop()
            store.close()

    app = FastAPI(
        title="ecgscreen",
        version="1",
        summary="ECG image → digitized signals, measurements, classifier verdicts and a screening report.",
        description="Every route except `/livez`, `/readyz` and the upload page needs an API key in `X-API-Key`. "
        "Reports are screening aids, unconfirmed until reviewed by a physician.",
        lifespan=lifespan,
    )
    app.include_router(corrections.router)  # issue 19: before reports (its /{job_id}/{artifact} is a catch-all)
    app.include_router(reports.router)
    app.include_router(stages.router)
    app.include_router(health.router)
    app.include_router(page.router)
    app.include_router(review.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")
    _install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["X-API-Key", "Content-Type"], expose_headers=["Location", "X-Request-ID"])
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes + MULTIPART_OVERHEAD)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


def webhook_payload(job: Job) -> dict:
    """What the callback receives: no patient fields, no measurements — the receiver fetches the report."""
    status = (job.report or {}).get("status", {})
    return {
        "event": "report.finished",
        "id": job.id,
        "state": job.state,
        "screening": status.get("screening"),
        "error": job.error,
        "links": {"self": f"/api/v1/reports/{job.id}"},
    }


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EcgInputError)
    async def _ecg_input(request: Request, exc: EcgInputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(ModelError)
    async def _model_fault(request: Request, exc: ModelError) -> JSONResponse:
        log.error("model fault", extra={"path": request.url.path, "reason": str(exc)})
        return JSONResponse({"detail": f"model unavailable: {exc}"}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [  # no input echoed; the fields of FastAPI's documented ValidationError
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StoreBusyError)
    async def _store_busy(request: Request, exc: StoreBusyError) -> JSONResponse:
        log.warning("job store busy", extra={"path": request.url.path})
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        if is_disk_full(exc):
            log.error("storage full", extra={"path": request.url.path})
            return JSONResponse({"detail": "storage full: the service cannot store data right now (no space left on "
                                 "its data disk); retry later"}, status_code=507)
        raise exc  # any other OSError: the generic 500 handler below

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return JSONResponse({"detail": "internal error", "request_id": request_id.get()}, status_code=500)
