"""The bad-input corpus through ``ecgscreen report`` (real pipeline, stand-in classifier models).

In-process (the console-script entry `api.cli.main` with captured streams) for every case, and as real
subprocesses of the installed script for a handful, to prove no traceback reaches stderr.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_testkit import ecgscreen_command
from cases import CASES, Case, Refused, Reported
from expect import check_report, contains

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str


def run_in_process(args: list[str]) -> CliRun:
    """Run the console-script entry point as a user would, with stdout/stderr captured."""
    from api.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["ecgscreen", *args]
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:  # noqa: BLE001 - an uncaught exception is what this test hunts
        pytest.fail(f"uncaught {type(exc).__name__}: {exc} (a user would see a traceback)\nstderr: {err.getvalue()}")
    finally:
        sys.argv = saved
    return CliRun(code, out.getvalue(), err.getvalue())


def report_args(case: Case, source: Path, out_dir: Path, models: Path) -> list[str]:
    args = [
        "report",
        str(source),
        "-o",
        str(out_dir / "report.pdf"),
        "--json",
        str(out_dir / "report.json"),
        "--models",
        str(models),
    ]
    for option, value in case.patient.items():
        args += [option, value]
    return args


def check_run(case: Case, run: CliRun, out_dir: Path) -> None:
    everything = run.stdout + run.stderr
    assert "Traceback" not in everything, everything
    expected = case.cli
    if isinstance(expected, Refused):
        assert run.code == expected.cli_exit, f"exit {run.code}; stderr: {run.stderr}"
        assert contains(run.stderr, "error") and contains(run.stderr, expected.reason), run.stderr
        leftovers = sorted(p.name for p in out_dir.iterdir()) if out_dir.exists() else []
        assert leftovers == [], f"output files left for a refused input: {leftovers}"
        return
    assert isinstance(expected, Reported)
    assert run.code == 0, f"exit {run.code}; stderr: {run.stderr}"
    assert (out_dir / "report.pdf").read_bytes()[:5] == b"%PDF-"
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    check_report(report, expected)
    assert contains(run.stderr, report["status"]["text"])
    if expected.pdf_text:
        page_text = pdf_page_text(out_dir / "report.pdf")
        for wanted in expected.pdf_text:
            assert wanted in page_text, f"{wanted!r} not printed literally on page 1"


def pdf_page_text(path: Path) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        return document[0].get_textpage().get_text_range()
    finally:
        document.close()  # the one-line summary names the status


def _params():
    return [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in CASES]


@pytest.mark.parametrize("case", _params())
def test_case_through_cli(case: Case, built, standin_models, tmp_path):
    out_dir = tmp_path / "out"
    run = run_in_process(report_args(case, built(case), out_dir, standin_models))
    check_run(case, run, out_dir)


SUBPROCESS_CASES = ("truncated_jpeg", "decompression_bomb", "patient_age_text")


@pytest.mark.slow
@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_refusal_as_real_subprocess(case_id: str, built, standin_models, tmp_path):
    """The installed script: exit 2, no traceback, and for our own errors exactly one ``error: …`` line."""
    case = next(c for c in CASES if c.id == case_id)
    out_dir = tmp_path / "out"
    env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1"}
    proc = subprocess.run(
        [*ecgscreen_command(), *report_args(case, built(case), out_dir, standin_models)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    check_run(case, CliRun(proc.returncode, proc.stdout, proc.stderr), out_dir)
    if case_id != "patient_age_text":  # usage errors are Typer's own box; ours are one line
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
