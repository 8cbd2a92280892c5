"""Training data for the image classifiers: PTB-XL records with their labels and split, rendered by DataSynth.

A data set is a folder holding ``manifest.csv`` (one row per rendered image: image path, record id, patient, fold,
split, tiled labels, fusion label, seed) next to the images (JPEG, quality 92) and one ``<stem>.beats.json`` per image
with the
heartbeat boxes in image pixels (from DataSynth's ground truth). Splits are made per record *before* rendering, so
the renders of one record are all on one side.

Split methods (:func:`assign_splits`):

* ``"folds"``: PTB-XL ``strat_fold`` 1–8 train, 9 validation, 10 test (patients never cross folds). With the
  records in ``../shared/data/ptbxl`` (and kit-dev records moved to test) that is 342 / 81 / 1,475 records, of
  which 128 / 36 / 836 abnormal.
* ``"patients"``: folds 1–8 plus 50 % of the fold-10 patients train, fold 9 plus 15 % of the fold-10 patients
  validation, the remaining 35 % of the fold-10 patients test (buckets by a hash of ``patient_id``): 1,049 / 294 /
  555 records, 519 / 170 / 311 abnormal. Still patient-disjoint, three times as much training data; the test
  records are a part of fold 10 that training never sees.

Records plotted in ``../shared/data/kit-dev`` are always put in the test split (``reserved_ids``), so that the
ECG-Image-Kit transfer check never sees a training record.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from classify.labels import fusion_label, load_diagnostic_classes, tiled_labels

SPLIT_METHODS = ("folds", "patients")
MANIFEST_COLUMNS = (
    "image",
    "beats",
    "ecg_id",
    "patient_id",
    "fold",
    "split",
    "tiled_labels",
    "fusion_label",
    "seed",
    "synthetic",
)


@dataclass(frozen=True)
class RenderJob:
    """One image to render: source record, where to write it, and its seed and distortion level."""

    record_path: str
    image_path: str
    seed: int
    distort: str
    max_side: int
    row: dict
    rhythm: str = ""


def ptbxl_table(ptbxl_dir: str | Path) -> pd.DataFrame:
    """PTB-XL records with labels: ``ecg_id`` (index), ``patient_id``, ``fold``, ``record_path`` (``.hea``),
    ``tiled_labels`` (";"-joined), ``fusion_label`` (1 abnormal, 0 normal, NaN none)."""
    ptbxl_dir = Path(ptbxl_dir)
    db = pd.read_csv(ptbxl_dir / "ptbxl_database.csv", index_col="ecg_id")
    classes = load_diagnostic_classes(ptbxl_dir / "scp_statements.csv")
    table = pd.DataFrame(index=db.index)
    table["patient_id"] = db["patient_id"].astype(int)
    table["fold"] = db["strat_fold"].astype(int)
    table["record_path"] = [str(ptbxl_dir / f"{name}.hea") for name in db["filename_hr"]]
    table["tiled_labels"] = [";".join(tiled_labels(s)) for s in db["scp_codes"]]
    table["fusion_label"] = [fusion_label(s, classes) for s in db["scp_codes"]]
    table["fusion_label"] = table["fusion_label"].astype("Float64")
    return table


def _bucket(patient_id: int) -> float:
    """A stable pseudo-random number in [0, 1) per patient (first 8 bytes of SHA-256)."""
    digest = hashlib.sha256(f"patient-{int(patient_id)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(
    table: pd.DataFrame,
    method: Literal["folds", "patients"] = "folds",
    *,
    reserved_ids: tuple[int, ...] | list[int] = (),
) -> pd.Series:
    """``train`` / ``val`` / ``test`` per record (index as ``table``); see the module docstring for the methods.

    Records in ``reserved_ids`` and every other record of their patients go to ``test``.
    """
    if method not in SPLIT_METHODS:
        raise ValueError(f"unknown split method {method!r}; valid: {', '.join(SPLIT_METHODS)}")
    fold = table["fold"]
    split = pd.Series("train", index=table.index, dtype=object)
    if method == "folds":
        split[fold == 9] = "val"
        split[fold == 10] = "test"
    else:
        bucket = table["patient_id"].map(_bucket)
        split[fold == 9] = "val"
        split[(fold == 10) & (bucket >= 0.50) & (bucket < 0.65)] = "val"
        split[(fold == 10) & (bucket >= 0.65)] = "test"
    reserved_patients = set(table.loc[table.index.isin(list(reserved_ids)), "patient_id"])
    split[table["patient_id"].isin(reserved_patients)] = "test"
    return split


def kit_dev_ids(kit_dev_dir: str | Path) -> list[int]:
    """PTB-XL ``ecg_id`` of the records plotted in the ECG-Image-Kit folder (empty when it is absent)."""
    index = Path(kit_dev_dir) / "index.csv"
    return [] if not index.exists() else [int(v) for v in pd.read_csv(index)["ecg_id"]]


def _render_one(job: RenderJob) -> dict | None:
    """Render one record (DataSynth) and write the PNG and its beat boxes; ``None`` when the record is refused."""
    import cv2

    from classify.train.synth_adapter import render_with_beats
    from ecg.errors import EcgInputError
    from ecg.io import read_record

    image_path = Path(job.image_path)
    beats_path = image_path.with_suffix(".beats.json")
    if image_path.exists() and beats_path.exists() and json.loads(beats_path.read_text()).get("seed") == job.seed:
        return {**job.row, "image": image_path.name, "beats": beats_path.name}  # rendered by an earlier run
    try:
        record = read_record(job.record_path, fs=500.0)
        if job.rhythm:
            record = _rhythm_record(record, job.rhythm, job.seed)
        image_bgr, boxes = render_with_beats(record, seed=job.seed, distort=job.distort)
    except (EcgInputError, ValueError):
        return None
    scale = min(1.0, job.max_side / max(image_bgr.shape[:2]))
    if scale < 1.0:
        size = (round(image_bgr.shape[1] * scale), round(image_bgr.shape[0] * scale))
        image_bgr = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
        boxes = boxes * scale
    cv2.imwrite(str(image_path), image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
    beats_path.write_text(json.dumps({"boxes": np.round(boxes, 1).tolist(), "seed": job.seed}))
    return {**job.row, "image": image_path.name, "beats": beats_path.name}


def _rhythm_record(record, kind: str, seed: int):
    from classify.train.rhythm_synth import synthesize_rhythm
    from synth.beats import detect_r_peaks

    _, peaks = detect_r_peaks(record)
    return synthesize_rhythm(record, kind, np.random.default_rng([seed, 7]), peaks)


def synthetic_jobs(
    table: pd.DataFrame, out_dir: Path, *, per_kind: int, seed: int, distort: str, max_side: int
) -> list[RenderJob]:
    """Jobs rendering ``per_kind`` labelled synthetic rhythms per kind of
    :data:`classify.train.rhythm_synth.RHYTHM_KINDS` from training records labelled NORM only (so a synthetic
    image never sits outside the training split)."""
    from classify.train.rhythm_synth import RHYTHM_KINDS

    sources = table[(table["split"] == "train") & (table["tiled_labels"] == "NORM")]
    if sources.empty or per_kind <= 0:
        return []
    rng = np.random.default_rng([seed, 11])
    jobs = []
    for kind in RHYTHM_KINDS:
        for j, ecg_id in enumerate(rng.choice(sources.index.to_numpy(), size=per_kind, replace=True)):
            row = sources.loc[ecg_id]
            job_seed = int.from_bytes(hashlib.sha256(f"{seed}-{ecg_id}-{kind}-{j}".encode()).digest()[:4], "big")
            fields = {
                "ecg_id": int(ecg_id),
                "patient_id": int(row["patient_id"]),
                "fold": int(row["fold"]),
                "split": "train",
                "tiled_labels": kind,
                "fusion_label": None,
                "seed": job_seed,
                "synthetic": 1,
            }
            name = out_dir / "images" / f"{int(ecg_id):05d}_{kind.lower()}{j}.jpg"
            jobs.append(RenderJob(row["record_path"], str(name), job_seed, distort, max_side, fields, kind))
    return jobs


def render_dataset(
    table: pd.DataFrame,
    out_dir: str | Path,
    *,
    renders_per_record: dict[str, int] | int = 1,
    seed: int = 0,
    distort: str = "mix",
    max_side: int = 1600,
    synthetic_per_kind: int = 0,
    workers: int = 1,
) -> pd.DataFrame:
    """Render every record of ``table`` (with a ``split`` column) into ``out_dir`` and write ``manifest.csv``.

    Parameters
    ----------
    renders_per_record : int or dict
        Images per record, optionally per split (e.g. ``{"train": 3, "val": 1, "test": 1}``).
    seed : int
        Base seed; image *k* of record *r* uses a seed derived from (seed, r, k), so a run is reproducible.
    distort : str
        DataSynth distortion level (``"none"``, ``"scan"``, ``"photo"``, ``"hard"``), or ``"mix"``: one level drawn
        per image.
    max_side : int
        Images are stored shrunk to at most this many px on their long side (the networks see ≤ 512 px).
    synthetic_per_kind : int
        Labelled synthetic rhythm images per rare kind (:mod:`classify.train.rhythm_synth`), training split only; they
        carry ``synthetic = 1`` and no fusion label.
    workers : int
        Processes rendering in parallel.
    """
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    jobs = []
    for ecg_id, row in table.iterrows():
        n = renders_per_record if isinstance(renders_per_record, int) else renders_per_record.get(row["split"], 1)
        for k in range(n):
            job_seed = int.from_bytes(hashlib.sha256(f"{seed}-{ecg_id}-{k}".encode()).digest()[:4], "big")
            fields = {
                "ecg_id": int(ecg_id),
                "patient_id": int(row["patient_id"]),
                "fold": int(row["fold"]),
                "split": row["split"],
                "tiled_labels": row["tiled_labels"],
                "fusion_label": row["fusion_label"],
                "seed": job_seed,
                "synthetic": 0,
            }
            name = out_dir / "images" / f"{int(ecg_id):05d}_{k}.jpg"
            jobs.append(RenderJob(row["record_path"], str(name), job_seed, distort, max_side, fields))
    jobs += synthetic_jobs(table, out_dir, per_kind=synthetic_per_kind, seed=seed, distort=distort, max_side=max_side)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_render_one, jobs, chunksize=4))
    else:
        rows = [_render_one(job) for job in jobs]
    manifest = pd.DataFrame([r for r in rows if r is not None], columns=list(MANIFEST_COLUMNS))
    manifest["image"] = "images/" + manifest["image"]
    manifest["beats"] = "images/" + manifest["beats"]
    manifest.to_csv(out_dir / "manifest.csv", index=False)
    return manifest


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read ``manifest.csv``: image and beat paths made absolute, ``tiled_labels`` parsed into tuples."""
    path = Path(path)
    manifest = pd.read_csv(path, keep_default_na=False, na_values={"fusion_label": [""]})
    root = path.parent
    manifest["image"] = [str(root / p) for p in manifest["image"]]
    manifest["beats"] = [str(root / p) if p else "" for p in manifest["beats"]]
    manifest["tiled_labels"] = [tuple(s.split(";")) if s else () for s in manifest["tiled_labels"].astype(str)]
    return manifest


def read_beat_boxes(path: str | Path) -> np.ndarray:
    """Heartbeat boxes ``(N, 4)`` float32 (x0, y0, x1, y1 image px) from a ``.beats.json`` file."""
    boxes = json.loads(Path(path).read_text())["boxes"]
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
