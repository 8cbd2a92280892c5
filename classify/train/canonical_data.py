"""Training data for the canonical tiled classifier: the true signals of every development PTB-XL record, packed.

Example::

    python -m classify.train.canonical_data --ptbxl ../shared/data/ptbxl --kit-dev ../shared/data/kit-dev \\
        --out data/canonical.npz --folds 5

Records of the ``train`` and ``val`` splits of ``assign_splits(method="patients")`` (kit-dev patients always in
test, test records never written) are stored at 250 Hz as ``int16`` in units of 5 µV (the canonical page draws
134 px/s, so 250 Hz still gives ≈ 2 samples per pixel), first differences along time (compresses ≈ 3×). Each
record carries its tiled labels, its split and a cross-validation fold ``0 … K−1`` drawn per *patient* (hash of
``patient_id``), so that the out-of-fold predictions of K fold models cover every development record, patient-wise.
Records labelled NORM only also carry their R peaks, the raw material of the synthetic rhythms
(:mod:`classify.train.rhythm_synth`) drawn during training.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from classify.labels import TILED_CLASSES, tiled_target
from classify.train.data import assign_splits, kit_dev_ids, ptbxl_table

FS = 250.0
UNIT_MV = 0.005
"""One stored integer step (mV)."""
N_SAMPLES = 2500


def patient_fold(patient_id: int, folds: int) -> int:
    """Cross-validation fold of a patient: a stable hash, independent of the split buckets of ``assign_splits``."""
    digest = hashlib.sha256(f"cv-{int(patient_id)}".encode()).digest()
    return int(int.from_bytes(digest[:8], "big") / 2**64 * folds)


def encode(signals_mv: np.ndarray) -> np.ndarray:
    """``(12, n)`` mV (NaN → 0) → ``int16`` first differences in :data:`UNIT_MV` steps."""
    q = np.round(np.nan_to_num(signals_mv) / UNIT_MV).astype(np.int32)
    q = np.clip(q, -32000, 32000)
    d = np.diff(q, axis=-1, prepend=0)
    return np.clip(d, -32768, 32767).astype(np.int16)


def decode(deltas: np.ndarray) -> np.ndarray:
    """Inverse of :func:`encode`: ``float32`` mV."""
    return (np.cumsum(deltas.astype(np.int32), axis=-1) * UNIT_MV).astype(np.float32)


def development_table(ptbxl: Path, kit_dev: Path | None, folds: int) -> pd.DataFrame:
    """PTB-XL train + val records (patient-wise split) with a ``cv_fold`` column."""
    table = ptbxl_table(ptbxl)
    table["split"] = assign_splits(table, "patients", reserved_ids=kit_dev_ids(kit_dev) if kit_dev else ())
    table = table[table["split"].isin(["train", "val"])].copy()
    table["cv_fold"] = [patient_fold(p, folds) for p in table["patient_id"]]
    return table


def load_record(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Signals at :data:`FS` ``(12, N_SAMPLES)`` mV and the R peaks (at :data:`FS`) or ``None`` when not found."""
    from scipy.signal import resample_poly

    from ecg.io import read_record
    from synth.beats import detect_r_peaks

    record = read_record(path, fs=500.0)
    signals = resample_poly(np.nan_to_num(record.signals.astype(np.float64)), 1, 2, axis=1)[:, :N_SAMPLES]
    signals = np.pad(signals, ((0, 0), (0, N_SAMPLES - signals.shape[1])))
    try:
        _, peaks = detect_r_peaks(record)
        peaks = np.round(np.asarray(peaks) / 2).astype(np.int32)
    except Exception:  # noqa: BLE001 - a record without detectable beats only loses its synthetic use
        peaks = None
    return signals.astype(np.float32), peaks


def pack(table: pd.DataFrame, out: Path, *, folds: int) -> dict:
    """Read every record of ``table`` and write the ``.npz`` (see the module docstring); returns a summary."""
    deltas, peak_list, offsets = [], [], [0]
    for _, row in table.iterrows():
        signals, peaks = load_record(row["record_path"])
        deltas.append(encode(signals))
        keep = row["tiled_labels"] == "NORM" and peaks is not None and len(peaks) >= 5
        peak_list.append(peaks if keep else np.zeros(0, np.int32))
        offsets.append(offsets[-1] + len(peak_list[-1]))
    labels = np.array([tiled_target(tuple(s.split(";")) if s else ()) for s in table["tiled_labels"]], np.uint8)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        deltas=np.stack(deltas),
        fs=np.float32(FS),
        unit_mv=np.float32(UNIT_MV),
        labels=labels,
        classes=np.array(TILED_CLASSES),
        ecg_id=table.index.to_numpy(np.int32),
        patient_id=table["patient_id"].to_numpy(np.int32),
        split=np.array(table["split"].tolist()),
        cv_fold=table["cv_fold"].to_numpy(np.int8),
        peaks=np.concatenate(peak_list).astype(np.int32),
        peak_offsets=np.array(offsets, np.int64),
        folds=np.int32(folds),
    )
    return {
        "records": len(table),
        "per_split": table["split"].value_counts().to_dict(),
        "positives": dict(zip(TILED_CLASSES, labels.sum(0).tolist(), strict=True)),
        "positives_per_fold": {
            k: dict(zip(TILED_CLASSES, labels[table["cv_fold"].to_numpy() == k].sum(0).tolist(), strict=True))
            for k in range(folds)
        },
        "synthetic_sources": int(sum(len(p) > 0 for p in peak_list)),
        "bytes": out.stat().st_size,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Pack development PTB-XL signals for canonical tiled training.")
    parser.add_argument("--ptbxl", type=Path, required=True)
    parser.add_argument("--kit-dev", type=Path, default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="first N records only (smoke tests)")
    args = parser.parse_args(argv)
    table = development_table(args.ptbxl, args.kit_dev, args.folds)
    if args.limit:
        table = table.head(args.limit)
    print(pack(table, args.out, folds=args.folds))


if __name__ == "__main__":
    main()
