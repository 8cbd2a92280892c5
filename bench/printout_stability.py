"""Measurements of a printout without images: PTB-XL records cut to what a 3×4+1 printout shows, then degraded the
way digitization degrades a trace, against the same cut of the true signal.

Usage::

    python bench/printout_stability.py [--split val] [--limit 250] [--seed 7] [--ptbxl ../shared/data/ptbxl]
                                       [--t-end-quantile Q]

For each record of the patient-wise ``--split`` (:func:`classify.train.data.assign_splits`; a random draw of
``--limit`` records with ``--seed``):

* **beats**: the R peaks of the printed cut (the rhythm strip and the twelve 2.5 s panels) against those of the full
  12-lead record (consensus of 12 long leads, the most reliable detection available), matched within ±60 ms —
  beats missed, beats added, and records whose heart rate is off by more than 10 %;
* **measurements**: the printed cut degraded by :func:`classify.train.degrade.degrade` (time and gain misread,
  smoothing, quantisation, noise, wander, clipping, a lost lead) against the printed cut of the true signal: n,
  median and p90 of |Δ| for QT, QRS, PR and heart rate, over all records and at confidence ≥ 0.8, and the
  confidently wrong ones (the limits of ``bench/measure_digitized.py``).

The degradation is drawn per record from ``default_rng([seed, ecg_id])``, so a change of the analysis is compared on
the same degraded signals. ``--t-end-quantile`` measures with another lead quantile for the global T end than
:data:`analyze.tend.COMBINE_QUANTILE` (the choice LUDB's cross-validation weighs against this bench). A fast,
image-free check of how robust a measurement is to digitization; the foreign images
(``bench/measure_digitized.py``) remain the real test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analyze import measure  # noqa: E402
from analyze.beats import clean_signals, detect_beats, rhythm_leads  # noqa: E402
from bench.measure_digitized import GROSS, SURE  # noqa: E402
from bench.measure_ludb import match_peaks  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import read_record  # noqa: E402
from ecg.record import EcgRecord  # noqa: E402

FIELDS = {"qt_ms": "QT (ms)", "qrs_ms": "QRS (ms)", "pr_ms": "PR (ms)", "heart_rate_bpm": "heart rate (bpm)"}
MATCH_S = 0.06
"""Two R peaks within this (s) are the same beat."""


def beat_errors(reference: np.ndarray, found: np.ndarray, tolerance: int) -> tuple[int, int]:
    """(missed, added): reference peaks with no found peak within ``tolerance`` samples, one-to-one, and the rest
    (:func:`bench.measure_ludb.match_peaks` with one mark per reference beat)."""
    _, added, missed = match_peaks(np.asarray(found), [np.array([r]) for r in reference], tolerance)
    return missed, added


def printed(record: EcgRecord, seed: int, ecg_id: int) -> tuple[EcgRecord, EcgRecord]:
    """(true signal cut to a 3×4+1 printout, the same cut degraded)."""
    from classify.train.degrade import degrade

    degraded = degrade(record, np.random.default_rng([seed, ecg_id]), layout="3x4+1")
    cut = np.where(np.isfinite(degraded.signals), record.signals, np.nan).astype(np.float32)
    return EcgRecord(cut, record.fs, record.meta), degraded


def summary(values: list[float]) -> str:
    if not values:
        return "n   0"
    v = np.asarray(values)
    return f"n {v.size:3d}  median {np.median(v):6.1f}  p90 {np.percentile(v, 90):6.1f}  max {v.max():6.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptbxl", type=Path, default=ROOT / ".." / "shared" / "data" / "ptbxl")
    parser.add_argument("--split", default="val", choices=["train", "val", "test"])
    parser.add_argument("--limit", type=int, default=250)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--t-end-quantile", type=float, default=None, metavar="Q")
    args = parser.parse_args(argv)
    if args.t_end_quantile is not None:
        import analyze.tend

        analyze.tend.COMBINE_QUANTILE = args.t_end_quantile
    if not (args.ptbxl / "ptbxl_database.csv").is_file():
        print(f"PTB-XL not found at {args.ptbxl} (ptbxl_database.csv missing)", file=sys.stderr)
        return 2
    from classify.train.data import assign_splits, ptbxl_table

    table = ptbxl_table(args.ptbxl)
    ids = sorted(table.index[assign_splits(table, "patients") == args.split])
    rng = np.random.default_rng(args.seed)
    ids = [int(i) for i in rng.choice(ids, size=min(args.limit, len(ids)), replace=False)]
    missed = added = 0
    off_rate: list[int] = []
    diffs: dict[str, list[tuple[float, float, float, int]]] = {f: [] for f in FIELDS}
    t0 = time.perf_counter()
    for ecg_id in ids:
        record = read_record(table.loc[ecg_id, "record_path"], fs=500.0)
        cut, degraded = printed(record, args.seed, ecg_id)
        try:
            full_clean = clean_signals(record)
            full = detect_beats(full_clean, record.fs, rhythm_leads(record, full_clean)).r_peaks
            cut_clean = clean_signals(cut)
            found = detect_beats(cut_clean, cut.fs, rhythm_leads(cut, cut_clean)).r_peaks
            a, b = measure(degraded), measure(cut)
        except EcgInputError:
            continue
        m, x = beat_errors(full, found, int(MATCH_S * record.fs))
        missed, added = missed + m, added + x
        if len(full) > 1 and len(found) > 1:
            if abs(np.median(np.diff(found)) / np.median(np.diff(full)) - 1) > 0.10:
                off_rate.append(ecg_id)
        for f in FIELDS:
            va, vb = getattr(a, f), getattr(b, f)
            if va is not None and vb is not None:
                diffs[f].append((abs(va - vb), a.confidence.get(f, 1.0), b.confidence.get(f, 1.0), ecg_id))
    n = len(diffs["heart_rate_bpm"])
    print(f"{len(ids)} {args.split}-split PTB-XL records, 3x4+1 printout, seed {args.seed} "
          f"({time.perf_counter() - t0:.0f} s)")
    print(f"beats of the printout vs the full record: missed {missed}, added {added}; "
          f"heart rate off by > 10 %: {len(off_rate)} of {n} records {off_rate}")
    print("degraded printout vs true printout, |Δ|:")
    for f, label in FIELDS.items():
        rows = diffs[f]
        sure = [d for d, c, _, _ in rows if c >= SURE]
        wrong = [i for d, c, rc, i in rows if c >= SURE and rc >= SURE and d > GROSS[f]]
        print(f"  {label:<17} all: {summary([d for d, _, _, _ in rows])};  ≥ {SURE}: {summary(sure)};  "
              f"confidently wrong (> {GROSS[f]:g}): {len(wrong)} {wrong if wrong else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
