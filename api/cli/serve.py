"""`ecgscreen serve`: the HTTP service (embedded default: SQLite + local files; Ray/PostgreSQL by settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._app import app, fail


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0 = any free port).", min=0, max=65535)] = 8000,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Overrides ECGSCREEN_DATA_DIR.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Overrides ECGSCREEN_WORKERS.", min=1)] = None,
    ray_address: Annotated[str | None, typer.Option("--ray", help="Overrides ECGSCREEN_RAY_ADDRESS.")] = None,
) -> None:
    """Serve the HTTP API and the upload page. Configuration: ECGSCREEN_* environment variables (see README)."""
    import uvicorn
    from pydantic import ValidationError

    from api.app import create_app
    from api.core.config import Settings

    overrides = {k: v for k, v in {"data_dir": data_dir, "workers": workers, "ray_address": ray_address}.items()
                 if v is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        fail("invalid settings: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    if settings.require_models:  # a corrupt or replaced model file: refuse to start, naming it and both checksums
        from ecg.manifest import ModelIntegrityError, verify_models

        try:
            verify_models(settings.models_dir)
        except ModelIntegrityError as exc:
            fail(f"refusing to start: {exc}", 3)
    # one process: jobs run on the worker pool (threads) or on Ray, never in extra uvicorn processes
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False,
                timeout_graceful_shutdown=30)
