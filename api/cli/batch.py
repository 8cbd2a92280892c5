"""`ecgscreen batch FOLDER -o OUT [--ray ADDRESS]`: a report per file of an archive, locally or with Ray Data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._app import app, err_console, fail


@app.command("batch")
def batch_command(
    folder: Annotated[str, typer.Argument(help="Folder of ECG images/records (a path the Ray workers can read).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for <stem>.json, <stem>.pdf and index.csv.")],
    ray_address: Annotated[str | None, typer.Option("--ray", help="Ray cluster address (e.g. 127.0.0.1:6379).")] = None,
    actors: Annotated[int, typer.Option("--actors", min=1, help="Pipeline actors on the cluster.")] = 2,
    models: Annotated[Path | None, typer.Option("--models", help="Folder of the ONNX models (on the workers).")] = None,
) -> None:
    """Digitize, measure, classify and report every file of FOLDER."""
    from api.batch import run_batch

    if not ray_address and not Path(folder).is_dir():
        fail(f"{folder}: not a folder")
    if out.exists() and not out.is_dir():
        fail(f"-o {out} must be a folder")
    items = run_batch(folder, out, ray_address=ray_address, models_dir=str(models) if models else None, actors=actors)
    failed = [i for i in items if i.state != "done"]
    err_console.print(f"{len(items) - len(failed)} reported, {len(failed)} failed → {out}/index.csv", highlight=False)
    if failed:
        raise typer.Exit(1)
