"""`ecgscreen synth` and `ecgscreen synth-batch`: render records as paper-ECG images with ground truth."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from api.cli._app import app, err_console, fail, progress, write_json

_LEVEL_HELP = "distortion level: none, scan, photo or hard"
_LABELS_HELP = "labels CSV (PTB-XL ptbxl_database.csv, or a 'record' column + label columns)"
_PAPER_HELP = "red, pink, thermal, green, blue, grey, bw or none"
_MIX_HELP = "mix (shares of none/scan/photo/hard) or one level"
_STYLE_HELP = "standard print, or random (a varied spec drawn from the seed)"


@app.command("synth")
def synth_command(
    record: Annotated[Path, typer.Argument(help="signal record (.hea WFDB, .edf, .csv, .json)")],
    out: Annotated[Path, typer.Option("-o", "--out", help="image to write (.png or .jpg)")],
    truth: Annotated[Path | None, typer.Option("--truth", help="ground-truth JSON (default: beside image)")] = None,
    distort: Annotated[str, typer.Option("--distort", help=_LEVEL_HELP)] = "none",
    seed: Annotated[int, typer.Option("--seed", help="seed for every random choice")] = 0,
    style: Annotated[str, typer.Option("--style", help=_STYLE_HELP)] = "standard",
    layout: Annotated[str | None, typer.Option("--layout", help="3x4+1, 3x4+3, 3x4, 6x2 or 12x1")] = None,
    dpi: Annotated[float | None, typer.Option("--dpi", help="resolution (100-300 typical)")] = None,
    paper: Annotated[str | None, typer.Option("--paper", help=_PAPER_HELP)] = None,
    speed: Annotated[float | None, typer.Option("--speed", help="paper speed mm/s (25 or 50)")] = None,
    gain: Annotated[float | None, typer.Option("--gain", help="gain mm/mV (5, 10 or 20)")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help=_LABELS_HELP)] = None,
) -> None:
    """Render one record as a paper ECG image and write its ground truth (JSON, mask, points, signals)."""
    import numpy as np

    from ecg.io import read_record
    from synth import RenderSpec, random_spec, render, write_sample
    from synth import distort as apply_distortion
    from synth.labels import labels_for, load_label_table
    from synth.paper import paper_style

    if style not in ("standard", "random"):
        fail(f"--style must be standard or random, got {style!r}")
    source = read_record(record)
    rng = np.random.default_rng(seed)
    if style == "random":
        spec = random_spec(rng, layout=layout, dpi=dpi, paper=paper, speed_mm_s=speed, gain_mm_mv=gain)
    else:
        spec = RenderSpec()
        pins = {"layout": layout, "dpi": dpi, "speed_mm_s": speed, "gain_mm_mv": gain}
        spec = replace(spec, **{k: v for k, v in pins.items() if v is not None})
        if paper is not None:
            spec = replace(spec, paper=paper_style(paper))
    record_labels = labels_for(record, load_label_table(labels)) if labels else None
    rendered = render(source, spec, rng, labels=record_labels, seed=seed)
    if distort != "none":
        rendered = apply_distortion(rendered, distort, rng)
    paths = write_sample(rendered, out, truth)
    t = rendered.truth
    write_json(
        {"image": str(paths.image), "truth": str(paths.truth), "mask": str(paths.mask), "layout": t.spec.layout,
         "size": list(t.image_size), "panels": len(t.panels), "beats": len(t.beats),
         "distortions": [d.name for d in t.distortions]},
        None,
    )


@app.command("synth-batch")
def synth_batch_command(
    folder: Annotated[Path, typer.Argument(help="folder of signal records (searched recursively)")],
    out: Annotated[Path, typer.Option("-o", "--out", help="output folder")],
    n: Annotated[int, typer.Option("-n", help="number of images")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="batch seed (each image derives its own)")] = 0,
    workers: Annotated[int, typer.Option("--workers", help="parallel processes")] = 2,
    distort: Annotated[str, typer.Option("--distort", help=_MIX_HELP)] = "mix",
    image_format: Annotated[str, typer.Option("--format", help="auto (png if clean), png or jpg")] = "auto",
    pattern: Annotated[list[str] | None, typer.Option("--glob", help="record file pattern (repeatable)")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help=_LABELS_HELP)] = None,
    layout: Annotated[str | None, typer.Option("--layout", help="pin the layout (default: varied)")] = None,
    dpi: Annotated[float | None, typer.Option("--dpi", help="pin the resolution (default: varied 100-300)")] = None,
) -> None:
    """Write N varied images with ground truth from a folder of records, in parallel, with a progress bar."""
    from synth.batch import RECORD_PATTERNS, find_records, plan_batch, run_batch
    from synth.labels import load_label_table

    if workers < 1:
        fail(f"--workers must be at least 1, got {workers}")
    records = find_records(folder, tuple(pattern) if pattern else RECORD_PATTERNS)
    table = load_label_table(labels) if labels else None
    choices = {k: v for k, v in {"layout": layout, "dpi": dpi}.items() if v is not None}
    jobs = plan_batch(records, out, n, seed, level=distort, image_format=image_format, label_table=table,
                      spec_choices=choices)
    failed = 0
    for item in progress(run_batch(jobs, workers), len(jobs), "rendering"):
        if item.error:
            failed += 1
            err_console.print(f"[yellow]skipped[/yellow] {Path(item.record).name}: {item.error}", highlight=False)
    write_json({"out": str(out), "images": len(jobs) - failed, "failed": failed, "index": str(out / "index.csv")},
               None)
    if failed == len(jobs):
        fail("no image could be made")
