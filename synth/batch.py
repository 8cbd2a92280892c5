"""Training-set generation: N rendered samples from a folder of records, in parallel, reproducible from one seed.

Job ``i`` gets its own seed from ``numpy.random.SeedSequence(seed).spawn``, so the output does not depend on the
number of workers or on the order in which jobs finish. Records are used in a seeded random order, each once
before any repeats. Every sample is written as ``NNNNNN.png|jpg`` + ``NNNNNN.json`` (+ sidecars), and
``index.csv`` lists them with their record, seed, layout, distortion level and labels.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecg.errors import EcgInputError

LEVEL_MIX: dict[str, float] = {"none": 0.15, "scan": 0.35, "photo": 0.35, "hard": 0.15}
"""Share of each distortion level when a batch asks for ``mix``."""

RECORD_PATTERNS = ("*.hea", "*.edf", "*.csv", "*.json")


@dataclass(frozen=True)
class BatchJob:
    """One sample to make."""

    index: int
    record: Path
    seed: int
    level: str
    out_dir: Path
    image_format: str
    labels: dict[str, Any] = field(default_factory=dict)
    spec_choices: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchItem:
    """What a job produced: the image name, or the error that stopped it."""

    index: int
    record: str
    seed: int
    level: str
    image: str | None = None
    layout: str | None = None
    dpi: float | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def find_records(folder: str | Path, patterns: tuple[str, ...] = RECORD_PATTERNS) -> list[Path]:
    """Record files under ``folder`` (recursive), sorted; raises `EcgInputError` if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EcgInputError(f"{folder}: not a folder")
    found = sorted({p for pattern in patterns for p in folder.rglob(pattern) if p.is_file()})
    if not found:
        raise EcgInputError(f"{folder}: no record files ({', '.join(patterns)})")
    return found


def plan_batch(
    records: list[Path],
    out_dir: str | Path,
    n: int,
    seed: int,
    *,
    level: str = "mix",
    image_format: str = "auto",
    label_table: dict[str, dict[str, Any]] | None = None,
    spec_choices: dict[str, Any] | None = None,
) -> list[BatchJob]:
    """The jobs of a batch (deterministic in ``seed``)."""
    from synth.distort import LEVELS
    from synth.labels import labels_for

    if n < 1:
        raise EcgInputError(f"number of images must be at least 1, got {n}")
    if level != "mix" and level not in LEVELS:
        raise EcgInputError(f"unknown distortion level {level!r}; choose mix or one of {', '.join(LEVELS)}")
    if image_format not in ("auto", "png", "jpg"):
        raise EcgInputError(f"image format {image_format!r} must be auto, png or jpg")
    children = np.random.SeedSequence(seed).spawn(n + 1)  # child 0 orders the records, child i+1 is job i
    order_rng = np.random.default_rng(children[0])
    order = np.concatenate([order_rng.permutation(len(records)) for _ in range(-(-n // len(records)))])[:n]
    names, weights = list(LEVEL_MIX), np.array(list(LEVEL_MIX.values()))
    jobs = []
    for i, child in enumerate(children[1:]):
        job_seed = int(child.generate_state(1)[0])
        job_level = level if level != "mix" else names[int(np.random.default_rng(job_seed).choice(4, p=weights))]
        record = records[int(order[i])]
        labels = labels_for(record, label_table) if label_table else {}
        jobs.append(BatchJob(i, record, job_seed, job_level, Path(out_dir), image_format, labels,
                             dict(spec_choices or {})))
    return jobs


def run_batch(jobs: list[BatchJob], workers: int = 1) -> Iterator[BatchItem]:
    """Make the jobs (in a process pool when ``workers > 1``), yielding results in job order; writes index.csv."""
    if not jobs:
        return
    out_dir = jobs[0].out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[BatchItem] = []
    if workers <= 1:
        stream: Iterator[BatchItem] = map(make_sample, jobs)
        for item in stream:
            results.append(item)
            yield item
    else:
        # never plain "fork": forking a process whose OpenCV/OpenMP threads run can deadlock the children;
        # "forkserver" forks them from a fresh single-threaded server instead
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["synth.pipeline", "synth.writer", "neurokit2"])
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
            for item in pool.map(make_sample, jobs, chunksize=1):
                results.append(item)
                yield item
    _write_index(out_dir / "index.csv", results)


def make_sample(job: BatchJob) -> BatchItem:
    """Read the record, synthesize and write one sample; user errors become ``BatchItem.error``."""
    from ecg.io import read_record
    from synth.pipeline import synthesize
    from synth.writer import write_sample

    base = BatchItem(job.index, str(job.record), job.seed, job.level, labels=job.labels)
    try:
        record = read_record(job.record)
        labels = job.labels or None
        rendered = synthesize(record, job.seed, job.level, labels=labels, **job.spec_choices)
        png = job.image_format == "png" or (job.image_format == "auto" and job.level == "none")
        suffix = ".png" if png else ".jpg"
        name = f"{job.index:06d}"
        write_sample(rendered, job.out_dir / f"{name}{suffix}", job.out_dir / f"{name}.json")
    except (EcgInputError, FileNotFoundError) as exc:
        return BatchItem(**{**base.__dict__, "error": str(exc)})
    spec = rendered.truth.spec
    return BatchItem(**{**base.__dict__, "image": f"{name}{suffix}", "layout": spec.layout, "dpi": spec.dpi,
                        "labels": rendered.truth.labels})


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def _write_index(path: Path, items: list[BatchItem]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "truth", "record", "seed", "level", "layout", "dpi", "labels", "error"])
        for item in items:
            truth = f"{item.index:06d}.json" if item.image else ""
            writer.writerow([item.image or "", truth, item.record, item.seed, item.level, item.layout or "",
                             item.dpi or "", json.dumps(item.labels, sort_keys=True), item.error or ""])
