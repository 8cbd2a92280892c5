"""`ecgscreen classify`: ECG images → both classifiers' outputs as JSON (optionally with saliency overlays)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._app import app, err_console, fail, progress, write_json
from ecg.errors import EcgInputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".pdf")


def _expand(inputs: list[Path]) -> list[Path]:
    """Files as given; folders replaced by the images they hold (sorted, not recursive)."""
    files = []
    for path in inputs:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files.append(path)
    return files


@app.command("classify")
def classify_command(
    inputs: Annotated[list[Path], typer.Argument(help="ECG images (PNG, JPEG, TIFF, PDF) or folders of images.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Folder for one <stem>.json per input.")] = None,
    saliency: Annotated[Path | None, typer.Option("--saliency", help="Folder for saliency overlays.")] = None,
    models_dir: Annotated[Path | None, typer.Option("--models-dir", help="Models folder (default models/).")] = None,
) -> None:
    """Run the RGB-tiled ResNet and the global/local fusion network on ECG images.

    One input without -o prints JSON; with -o OUT_DIR each input gives OUT_DIR/<stem>.json.
    """
    from classify.runtime import Classifier  # onnxruntime is loaded only for this command

    files = _expand(inputs)
    if not files:
        fail("no image found in the given inputs")
    if len(files) > 1 and out is None:
        fail(f"{len(files)} inputs: give -o OUT_DIR to write one <stem>.json per input")
    if out is not None and out.exists() and not out.is_dir():
        fail(f"-o {out} must be a folder")
    classifier = Classifier(models_dir)  # a missing or corrupt model raises ModelError: exit code 3
    failures = 0
    for path in progress(files, len(files), "classifying"):
        try:
            document = _classify_one(classifier, path, saliency)
        except (EcgInputError, FileNotFoundError) as exc:
            if len(files) == 1:
                raise
            failures += 1
            reason = f"file not found: {exc.filename}" if isinstance(exc, FileNotFoundError) else str(exc)
            err_console.print(f"[red]error:[/red] {path}: {reason}", highlight=False)
            continue
        write_json(document, None if out is None else out / f"{path.stem}.json")
    if failures:
        fail(f"{failures} of {len(files)} inputs could not be classified")


def _classify_one(classifier, path: Path, saliency_dir: Path | None) -> dict:
    from digitize.load import load_image

    image = load_image(path)
    result = classifier.classify(image)
    document = {"input": str(path), **result.as_dict()}
    if saliency_dir is not None:
        from classify.explain import explain, write_overlays

        written = write_overlays(saliency_dir, path.stem, image, result, explain(classifier, image, result))
        document["saliency"] = [str(p) for p in written]
    return document
