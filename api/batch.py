"""Report a folder of ECGs: locally, or on a Ray cluster with Ray Data (one pipeline per actor, models loaded once).

Writes ``OUT/<stem>.json`` and ``OUT/<stem>.pdf`` per input and ``OUT/index.csv`` (file, state, screening, error).
On Ray, ``FOLDER`` is read by the cluster (``ray.data.read_binary_files``): it must be visible to the workers
(shared file system, or an ``s3://``/``gs://`` URI); results stream back to the machine running the command.
"""

from __future__ import annotations

import csv
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from api.sniff import UnsupportedMediaError, sniff
from ecg.errors import EcgInputError
from report.model import Patient


@dataclass(frozen=True)
class BatchItem:
    """Outcome for one input file."""

    name: str
    state: str
    """``done`` or ``failed``."""
    screening: str | None
    error: str | None
    report: dict[str, Any] | None
    pdf: bytes | None


def report_one(pipeline: Any, name: str, data: bytes) -> BatchItem:
    """Run the job code on one file's bytes; user errors become a failed item, never an exception."""
    from api.jobs import produce_report_bytes

    try:
        sniffed = sniff(data[:4096])
        report, files = produce_report_bytes(pipeline, data, "input" + sniffed.suffix,
                                             report_id=secrets.token_hex(16), patient=Patient().to_dict())
    except (UnsupportedMediaError, EcgInputError) as exc:
        return BatchItem(name, "failed", None, str(exc), None, None)
    return BatchItem(name, "done", report["status"]["screening"], None, report, files.get("report.pdf"))


class _BatchReporter:
    """Ray Data callable class: constructed once per actor (loads the models), called per batch of files."""

    def __init__(self, models_dir: str | None) -> None:
        from report.pipeline import Pipeline

        self.pipeline = Pipeline(models_dir)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        out: dict[str, list] = {k: [] for k in ("name", "state", "screening", "error", "report", "pdf")}
        for path, data in zip(batch["path"], batch["bytes"], strict=True):
            item = report_one(self.pipeline, PurePosixPath(str(path)).name, bytes(data))
            out["name"].append(item.name)
            out["state"].append(item.state)
            out["screening"].append(item.screening or "")
            out["error"].append(item.error or "")
            out["report"].append(json.dumps(item.report) if item.report else "")
            out["pdf"].append(item.pdf or b"")
        return out


def _ray_items(folder: str, address: str, models_dir: str | None, actors: int) -> Iterator[BatchItem]:
    from api.ray_exec import connect

    ray = connect(address)
    # small CPU shares so the reading tasks and the pipeline actors fit together on small nodes
    dataset = ray.data.read_binary_files(folder, include_paths=True, ray_remote_args={"num_cpus": 0.25})
    results = dataset.map_batches(
        _BatchReporter, fn_constructor_kwargs={"models_dir": models_dir}, batch_size=1, concurrency=actors,
        num_cpus=0.5, batch_format="numpy",
    )
    for row in results.iter_rows():
        yield BatchItem(
            str(row["name"]), str(row["state"]), row["screening"] or None, row["error"] or None,
            json.loads(row["report"]) if row["report"] else None, bytes(row["pdf"]) or None,
        )


def _local_items(files: list[Path], models_dir: str | None) -> Iterator[BatchItem]:
    from report.pipeline import Pipeline

    pipeline = Pipeline(models_dir)
    for path in files:
        yield report_one(pipeline, path.name, path.read_bytes())


def run_batch(
    folder: str | Path, out: Path, *, ray_address: str | None = None, models_dir: str | None = None, actors: int = 2
) -> list[BatchItem]:
    """Report every file of ``folder`` into ``out``; returns the outcomes (also written to ``out/index.csv``)."""
    out.mkdir(parents=True, exist_ok=True)
    if ray_address:
        items = _ray_items(str(folder), ray_address, models_dir, actors)
    else:
        files = sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise EcgInputError(f"{folder}: no files to report")
        items = _local_items(files, models_dir)
    done = []
    for item in items:
        stem = Path(item.name).stem
        if item.report is not None:
            (out / f"{stem}.json").write_text(json.dumps(item.report, indent=2, ensure_ascii=False), encoding="utf-8")
        if item.pdf:
            (out / f"{stem}.pdf").write_bytes(item.pdf)
        done.append(item)
    done.sort(key=lambda i: i.name)
    with open(out / "index.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "state", "screening", "error"])
        for item in done:
            writer.writerow([item.name, item.state, item.screening or "", item.error or ""])
    return done
