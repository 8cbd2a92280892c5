"""`ecgscreen analyze`: signal records (CSV / EDF / WFDB .hea / JSON) → measurements and findings as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from analyze import findings, measure
from analyze.delineate import METHODS
from api.cli._app import app, fail, progress, write_json
from ecg.errors import EcgInputError
from ecg.io import read_record
from report.sections import analysis_to_dict


def analysis(path: Path, *, sex: str | None, age: float | None, method: str) -> dict:
    """The JSON document for one record: ``{"measurements", "findings", "source"}``."""
    record = read_record(path)
    measured = measure(record, method=method)  # type: ignore[arg-type]
    stated = findings(measured, sex=sex, age=age)
    return {**analysis_to_dict(measured, stated), "source": str(path)}


@app.command("analyze")
def analyze_command(
    records: Annotated[list[Path], typer.Argument(help="Record files: .csv, .edf, .hea (WFDB) or .json.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output .json (one record) or folder.")] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="M or F: selects the long-QTc limit.")] = None,
    age: Annotated[float | None, typer.Option("--age", help="Age in years (rules are for adults).")] = None,
    method: Annotated[str, typer.Option("--method", help=f"Delineation: {', '.join(METHODS)}.")] = "spatial",
) -> None:
    """Measure records (intervals, axes, amplitudes) and state rule-based findings, as JSON."""
    if method not in METHODS:
        fail(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if sex is not None and sex.strip().upper()[:1] not in ("M", "F"):
        fail(f"--sex must be M or F, got {sex!r}")
    if age is not None and not 0 <= age <= 130:
        fail(f"--age must be between 0 and 130 years, got {age:g}")
    if len(records) == 1 and (out is None or out.suffix.lower() == ".json"):
        write_json(analysis(records[0], sex=sex, age=age, method=method), out)
        return
    if out is None or out.suffix:
        fail("several records need a folder as -o/--out (one <name>.json is written per record)")
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for path in progress(records, len(records), "analyzing"):
        try:
            write_json(analysis(path, sex=sex, age=age, method=method), out / f"{_stem(path)}.json")
        except (EcgInputError, FileNotFoundError) as exc:
            failed.append(f"{path.name}: {exc}")
    if failed:
        fail(f"{len(failed)} of {len(records)} records failed — " + "; ".join(failed))


def _stem(path: Path) -> str:
    return path.name[: -len(path.suffix)] if path.suffix else path.name
