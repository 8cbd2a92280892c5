"""`ecgscreen digitize INPUT... -o OUT`: paper ECG images → signal records (CSV, EDF, WFDB, JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._app import app, err_console, fail, progress
from digitize.load import IMAGE_SUFFIXES
from ecg.errors import EcgInputError

RECORD_SUFFIXES = (".csv", ".edf", ".hea", ".json")


@app.command("digitize")
def digitize_command(
    inputs: Annotated[list[Path], typer.Argument(help="Images (PNG, JPEG, TIFF, PDF) or folders of images.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output file (.csv/.edf/.hea/.json) or folder.")],
    fmt: Annotated[str, typer.Option("--format", help="Format for a folder OUT: csv, edf, hea, json.")] = "csv",
    overlay: Annotated[bool, typer.Option("--overlay", help="Also write NAME_overlay.png per record.")] = False,
    method: Annotated[
        str, typer.Option("--method", help="Trace segmentation: classical (default) or unet (models/trace_unet.onnx).")
    ] = "classical",
    layout: Annotated[
        str | None,
        typer.Option("--layout", help="Force a layout (3x4, 3x4+1, 3x4+3, 6x2, 6x2+1, 12x1, 12x1+1)."),
    ] = None,
    leads: Annotated[
        str | None,
        typer.Option(
            "--leads",
            help="Lead of every panel in reading order (row by row, rhythm strips included), e.g. "
            "'I,aVR,V1,V4,II,aVL,V2,V5,III,aVF,V3,V6,II'; '-aVR' for an inverted lead.",
        ),
    ] = None,
    speed: Annotated[float | None, typer.Option("--speed", metavar="MM_S", help="Paper speed (mm/s).")] = None,
    gain: Annotated[float | None, typer.Option("--gain", metavar="MM_MV", help="Gain (mm/mV).")] = None,
    rhythm_lead: Annotated[
        str | None, typer.Option("--rhythm-lead", help="Lead(s) of the rhythm strip(s), comma-separated.")
    ] = None,
    exclude: Annotated[
        str | None, typer.Option("--exclude", help="Leads to leave out of the record, comma-separated.")
    ] = None,
    highpass: Annotated[
        float | None,
        typer.Option("--highpass", metavar="HZ", help="Optional zero-phase high-pass cut-off (Hz); off by default."),
    ] = None,
) -> None:
    """Digitize paper ECG images into 12-lead records at 500 Hz."""
    from digitize.hints import DigitizeHints, HintError
    from digitize.pipeline import DIGITIZE_METHODS, digitize_image
    from ecg.io import write_record
    from report.sections import DigitizationSummary

    if method not in DIGITIZE_METHODS:
        fail(f"unknown method {method!r}; use one of: {', '.join(DIGITIZE_METHODS)}")
    try:
        hints = DigitizeHints.create(
            layout=layout, leads=leads, speed_mm_s=speed, gain_mm_mv=gain, rhythm_leads=rhythm_lead, exclude=exclude
        )
    except HintError as exc:
        fail(str(exc))

    images = _collect_images(inputs)
    if not images:
        fail("no images found (accepted: " + ", ".join(IMAGE_SUFFIXES) + ")")
    suffix = "." + fmt.lower().lstrip(".")
    if suffix not in RECORD_SUFFIXES:
        fail(f"unknown format {fmt!r}; use one of: {', '.join(s[1:] for s in RECORD_SUFFIXES)}")
    to_folder = out.suffix.lower() not in RECORD_SUFFIXES
    if not to_folder and len(images) > 1:
        fail(f"{len(images)} images but one output file; give a folder as -o to write one record per image")
    if to_folder:
        out.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for image in progress(images, len(images), "digitizing"):
        target = out / (image.stem + suffix) if to_folder else out
        try:
            result = digitize_image(image, method=method, hints=hints, highpass_hz=highpass or None)
        except EcgInputError as exc:
            if len(images) == 1:
                raise
            failures.append(f"{image.name}: {exc}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        write_record(result.record, target)
        if overlay:
            _write_png(result.overlay, target.with_name(target.stem + "_overlay.png"))
        if len(images) == 1:
            summary = DigitizationSummary.of(result)
            low = summary.low_confidence
            err_console.print(
                f"{image.name} → {target}  layout {summary.layout}, quality {summary.quality:.2f}"
                + (f", low confidence: {', '.join(low)}" if low else ""),
                highlight=False,
            )
    for line in failures:
        err_console.print(f"[yellow]skipped[/yellow] {line}", highlight=False)
    if failures and len(failures) == len(images):
        fail("no image could be digitized")


def _collect_images(inputs: list[Path]) -> list[Path]:
    images: list[Path] = []
    for item in inputs:
        if item.is_dir():
            images.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        elif item.exists():
            images.append(item)
        else:
            fail(f"file not found: {item}")
    return images


def _write_png(rgb, path: Path) -> None:
    import cv2

    if not cv2.imwrite(str(path), rgb[:, :, ::-1]):
        fail(f"could not write {path}")
