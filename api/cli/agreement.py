"""`ecgscreen agreement`: run the pipeline over a folder and report agreement between the three sources."""

from __future__ import annotations

import base64
import html
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli._app import app, err_console, fail, progress, write_json

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf")
_PIPELINE = None


def _init_worker(models: str | None) -> None:
    global _PIPELINE
    from report.pipeline import Pipeline

    _PIPELINE = Pipeline(models, saliency=False, threads=1)


def _run_one(args: tuple[str, str]) -> tuple[str, str | None]:
    """Run one image and cache its report JSON; returns (file name, error or None)."""
    from ecg.errors import EcgInputError

    image, cache = args
    try:
        result = _PIPELINE.run(image)  # type: ignore[union-attr]
    except (EcgInputError, FileNotFoundError) as exc:
        return Path(image).name, str(exc)
    Path(cache).write_text(json.dumps(result.report.to_dict(), allow_nan=False), encoding="utf-8")
    return Path(image).name, None


@app.command("agreement")
def agreement_command(
    folder: Annotated[Path, typer.Argument(help="Folder of ECG images.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The agreement JSON to write.")],
    labels: Annotated[Path | None, typer.Option("--labels", help="CSV with columns file,labels.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Also write an HTML summary.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=16, help="Processes (models load once each).")] = 1,
    models: Annotated[Path | None, typer.Option("--models", help="Folder of the ONNX models.")] = None,
) -> None:
    """Agreement (Cohen's/Fleiss' kappa, McNemar) between waveform rules, tiled and fusion classifiers; with
    --labels also each source's sensitivity/specificity/F1. Resumable: reports are cached beside OUT."""
    from report.agreement import agreement, plot_agreement, read_labels

    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    if out.suffix.lower() != ".json":
        fail(f"-o/--out must name a .json file, got {out.name!r}")
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        fail(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    reference = read_labels(labels) if labels else None
    cache = out.with_suffix(".reports")
    cache.mkdir(parents=True, exist_ok=True)
    made_by = _current_makers(models)
    todo = [
        (str(p), str(cache / f"{p.stem}.json"))
        for p in images
        if not _is_current(cache / f"{p.stem}.json", p, made_by)
    ]
    failures: dict[str, str] = {}
    if todo:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(str(models) if models else None,)) as pool:
            for name, error in progress(pool.map(_run_one, todo), len(todo), "reporting"):
                if error:
                    failures[name] = error
    reports = []
    for p in images:
        cached = cache / f"{p.stem}.json"
        if p.name not in failures and cached.exists():
            reports.append(json.loads(cached.read_text(encoding="utf-8")))
    if not reports:
        fail("no image could be processed: " + "; ".join(f"{k}: {v}" for k, v in failures.items()))
    doc = agreement(reports, reference)
    doc["failed"] = failures
    doc["folder"] = str(folder)
    write_json(doc, out)
    png = plot_agreement(doc, out.with_suffix(".png"))
    if doc.get("screening", {}).get("reliability"):
        from report.agreement import plot_reliability

        plot_reliability(doc["screening"]["reliability"], out.with_name(out.stem + "_reliability.png"),
                         f"Screening model calibration ({doc['screening']['n_scored']} images of {folder.name})")
    if html_out is not None:
        html_out.write_text(_html(doc, png), encoding="utf-8")
    err_console.print(f"{len(reports)} reports, {len(failures)} failed → {out}, {png}", highlight=False)


def _current_makers(models: Path | None) -> dict[str, Any]:
    """The software version and model versions a cached report must carry to be reused."""
    from classify.manifest import DEFAULT_MODELS_DIR, MODEL_NAMES, read_manifest
    from report.pipeline import software_version

    entries = read_manifest(models or DEFAULT_MODELS_DIR)
    names = (*MODEL_NAMES, "waveform", "screening")  # every model a report's verdict depends on
    return {"software": software_version(), "models": {n: entries[n].version for n in names if n in entries}}


def _is_current(cached: Path, image: Path, made_by: dict[str, Any]) -> bool:
    """True when ``cached`` is a readable report of exactly this file made by this software and these models; a
    stale cache (new release, retrained model, changed image) is recomputed rather than mixed into the statistics."""
    from classify.manifest import sha256_file

    try:
        doc = json.loads(cached.read_text(encoding="utf-8"))
        return (
            doc["software"]["version"] == made_by["software"]
            and (doc.get("classifiers") or {}).get("model_versions", {}) == made_by["models"]
            and doc["input"]["sha256"] == sha256_file(image)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _html(doc: dict[str, Any], png: Path) -> str:
    rows = []
    for label, entry in doc["labels"].items():
        for pair, info in entry["pairs"].items():
            ci = info["kappa_ci95"]
            rows.append(
                f"<tr><td>{html.escape(label)}</td><td>{html.escape(pair)}</td><td>{info['n']}</td>"
                f"<td>{info['percent_agreement']}</td><td>{info['cohen_kappa']}</td>"
                f"<td>{'' if ci is None else f'{ci[0]} – {ci[1]}'}</td><td>{info['mcnemar']['p_value']}</td></tr>"
            )
    image = base64.b64encode(png.read_bytes()).decode()
    fk = doc["fleiss_kappa_abnormal"]
    return (
        "<!doctype html><meta charset='utf-8'><title>ecgscreen agreement</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;border-bottom:1px solid #ddd}</style>"
        f"<h1>Agreement over {doc['n_reports']} reports</h1>"
        f"<p>Fleiss' κ (ABNORMAL, three sources): {fk['kappa']} (95 % CI {fk['ci95']}, n = {fk['n']})</p>"
        f"<img alt='kappa matrix and confusion matrices' src='data:image/png;base64,{image}' style='max-width:100%'>"
        "<table><tr><th>label</th><th>pair</th><th>n</th><th>% agree</th><th>κ</th><th>95 % CI</th>"
        "<th>McNemar p</th></tr>" + "".join(rows) + "</table>"
    )
