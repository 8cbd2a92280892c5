"""The job itself: one input file → the report JSON and its files, written into the job folder.

The same function runs in the service process (embedded default) and inside a Ray actor (scale-out), so a
report does not depend on where it was made.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from ecg.io import write_record
from report.model import Patient

ARTIFACTS: dict[str, tuple[str, str]] = {
    "pdf": ("report.pdf", "application/pdf"),
    "overlay.png": ("overlay.png", "image/png"),
    "signals.csv": ("signals.csv", "text/csv"),
    "signals.edf": ("signals.edf", "application/octet-stream"),
}
"""URL suffix → (file name in the job folder, media type)."""


class PipelineLike(Protocol):
    """What the service needs of `report.pipeline.Pipeline` (tests pass stand-ins)."""

    classifier: Any
    classifier_error: str | None

    def run(self, source: str | Path, *, patient: Patient | None = None) -> Any: ...


def patient_from_dict(data: dict[str, Any]) -> Patient:
    return Patient(data.get("id"), data.get("name"), data.get("age"), data.get("sex"))


def produce_report(
    pipeline: PipelineLike, input_path: Path, out_dir: Path, *, report_id: str, patient: Patient
) -> dict[str, Any]:
    """Run the pipeline on ``input_path`` and write ``report.pdf``, ``overlay.png`` (images) and
    ``signals.csv``/``signals.edf`` into ``out_dir``; return the report as JSON-ready dict (its id = ``report_id``).

    Raises `ecg.errors.EcgInputError` for inputs the pipeline cannot read.
    """
    result = pipeline.run(input_path, patient=patient)
    result = dataclasses.replace(result, report=dataclasses.replace(result.report, id=report_id))
    return write_report_files(result, out_dir)


def write_report_files(result: Any, out_dir: Path) -> dict[str, Any]:
    """Write a pipeline result's ``report.pdf``, ``overlay.png`` (images) and ``signals.csv``/``signals.edf`` into
    ``out_dir``; return the report as a JSON-ready dict. Shared by jobs and reader corrections."""
    from report.pdf import write_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    write_pdf(result, out_dir / "report.pdf")
    if result.overlay is not None:
        _write_png(result.overlay, out_dir / "overlay.png")
    if result.record is not None:
        write_record(result.record, out_dir / "signals.csv")
        write_record(result.record, out_dir / "signals.edf")
    return result.report.to_dict()


def produce_report_bytes(
    pipeline: PipelineLike, data: bytes, input_name: str, *, report_id: str, patient: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """`produce_report` for a worker without the service's disk: bytes in, (report, {file name: bytes}) out."""
    with tempfile.TemporaryDirectory(prefix="ecgscreen-job-") as tmp:
        source = Path(tmp) / input_name
        source.write_bytes(data)
        out_dir = Path(tmp) / "out"
        report = produce_report(pipeline, source, out_dir, report_id=report_id, patient=patient_from_dict(patient))
        return report, {p.name: p.read_bytes() for p in out_dir.iterdir()}


def _write_png(rgb: np.ndarray, path: Path) -> None:
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    path.write_bytes(encoded.tobytes())
