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
    layout: Annotated[str | None, typer.Option("--layout", help="Layout of the print (3x4, 3x4+1, 3x4+3, 6x2, "
                                                                "12x1); detected when not given.")] = None,
    leads: Annotated[str | None, typer.Option("--leads", help="Lead of every panel in reading order, comma-"
                                                              "separated (rhythm strips last).")] = None,
    speed: Annotated[float | None, typer.Option("--speed", help="Paper speed, mm/s (10–100).")] = None,
    gain: Annotated[float | None, typer.Option("--gain", help="Gain, mm/mV (2.5–40).")] = None,
    rhythm_lead: Annotated[str | None, typer.Option("--rhythm-lead", help="Lead(s) of the rhythm strip(s), "
                                                                          "comma-separated, top down.")] = None,
    exclude: Annotated[str | None, typer.Option("--exclude", help="Leads not to read, comma-separated.")] = None,
) -> None:
    """Digitize, measure, classify, cross-check and write the report (PDF, optionally JSON).

    Layout, lead, speed and gain options override what the digitizer detects; the report lists them as set by
    the user."""
    from report.corrections import Hints, parse_lead_list
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
    try:
        hints = Hints(layout=layout, leads=parse_lead_list(leads), speed_mm_s=speed, gain_mm_mv=gain,
                      rhythm_leads=parse_lead_list(rhythm_lead), exclude=parse_lead_list(exclude) or ())
    except ValueError as exc:
        fail(str(exc))
    check_content(source)
    pipeline = Pipeline(models, saliency=saliency)
    if pipeline.classifier_error:
        err_console.print(f"[yellow]warning:[/yellow] classifiers unavailable: {pipeline.classifier_error}")
    result = pipeline.run(source, patient=patient, hints=None if hints.empty else hints)
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
