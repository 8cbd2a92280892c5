"""`ecgscreen report`: the full pipeline from an image (or a signal record) to a PDF and a JSON report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._app import app, err_console, fail, write_json
from report.model import Patient


@app.command("report")
def report_command(
    source: Annotated[Path, typer.Argument(help="ECG image (PNG, JPEG, TIFF, PDF) or record (.csv/.edf/.hea/.json).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The PDF to write.")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the JSON report here.")] = None,
    patient_id: Annotated[str | None, typer.Option("--id", help="Patient or study ID printed in the header.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Patient name printed in the header.")] = None,
    age: Annotated[int | None, typer.Option("--age", help="Age in years.")] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="M or F (selects the long-QTc limit).")] = None,
    paper: Annotated[str, typer.Option("--paper", help="a4 or letter (landscape).")] = "a4",
    saliency: Annotated[
        bool, typer.Option("--saliency/--no-saliency", help="Add the occlusion saliency map (10–30 s more).")
    ] = False,
    models: Annotated[Path | None, typer.Option("--models", help="Folder of the ONNX models.")] = None,
) -> None:
    """Digitize, measure, classify, cross-check and write the report (PDF, optionally JSON)."""
    from report.pdf import write_pdf
    from report.pipeline import Pipeline

    if out.suffix.lower() != ".pdf":
        fail(f"-o/--out must name a .pdf file, got {out.name!r}")
    if paper not in ("a4", "letter"):
        fail(f"--paper must be a4 or letter, got {paper!r}")
    try:
        patient = Patient.from_user(patient_id, name, age, sex)
    except ValueError as exc:
        fail(str(exc))
    check_content(source)
    pipeline = Pipeline(models, saliency=saliency)
    if pipeline.classifier_error:
        err_console.print(f"[yellow]warning:[/yellow] classifiers unavailable: {pipeline.classifier_error}")
    result = pipeline.run(source, patient=patient)
    write_pdf(result, out, paper=paper)  # type: ignore[arg-type]
    if json_out is not None:
        write_json(result.report.to_dict(), json_out)
    status = result.report.status
    err_console.print(f"{status.text} ({status.to_dict()['confirmation']}) → {out}", highlight=False)


def check_content(source: Path) -> None:
    """Refuse, as the HTTP API does, a file whose content is no image or record we read, and a file whose content
    contradicts its name (the pipeline dispatches on the name); records are left to their reader's own reasons."""
    from api.sniff import UnsupportedMediaError, sniff
    from report.pipeline import SIGNAL_SUFFIXES

    suffix = source.suffix.lower()
    if not source.is_file() or suffix in (".hea", ".dat"):
        return  # missing files and WFDB (header + signal file) are explained by the pipeline
    with open(source, "rb") as fh:
        head = fh.read(4096)
    named = "record" if suffix in SIGNAL_SUFFIXES else "image"
    if not head:
        return  # the readers say "empty"
    try:
        found = sniff(head)
    except UnsupportedMediaError as exc:
        if named == "image":
            fail(f"{source.name}: {exc}")
        return
    if found.kind != named:
        what = f"an image ({found.format})" if found.kind == "image" else f"a signal record ({found.format})"
        fail(
            f"{source.name}: the content is {what} but the name ends in {suffix or 'no suffix'!r}; "
            f"rename it to end in {found.suffix}"
        )
