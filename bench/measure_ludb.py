"""Accuracy of `analyze.measure` on LUDB against the cardiologists' annotations.

Reference (per beat, from the per-lead annotations of LUDB 1.0.1, Kalyakulina et al., IEEE Access 8:186181, 2020):
earliest P onset, earliest QRS onset, latest QRS offset and latest T offset across the 12 leads; PR = QRS on − P on,
QRS = QRS off − QRS on, QT = T off − QRS on; the record's reference is the median over its beats. Prints
mean ± SD of (measured − reference) for PR, QRS and QT, and R-peak sensitivity / PPV against the annotated QRS
peaks (a detected peak within ±50 ms of one of a beat's per-lead QRS peak marks matches it; only the annotated
span of each record is scored, since LUDB leaves the first and last second or so unannotated).

Excluded: paced records (``Cardiac pacing`` in ludb.csv) from the interval statistics; atrial fibrillation,
atrial flutter and third-degree AV block from PR (no P wave, or P waves unrelated to the QRS).

Usage::

    python bench/measure_ludb.py [--method spatial] [--records 1-100] [--details]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analyze.delineate import METHODS  # noqa: E402
from analyze.measure import measure  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import read_record  # noqa: E402

LUDB = REPO / ".." / "shared" / "data" / "ludb"
LEAD_FILES = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
R_TOLERANCE_S = 0.05
TARGETS = {"pr": (10, 15), "qrs": (10, 15), "qt": (25, 30)}


@dataclass
class Reference:
    """Annotation-derived global reference of one record (ms, ``None`` when not annotated)."""

    pr: float | None
    qrs: float | None
    qt: float | None
    qrs_peaks: list[np.ndarray]  # per annotated beat, the QRS peak marks of its leads (sample indices)
    span: tuple[int, int]  # first and last annotated sample


def read_waves(path: Path, extension: str) -> list[tuple[str, int, int, int]]:
    """``(kind, onset, peak, offset)`` of every complete annotated wave of one lead (kind ``p``, ``N`` or ``t``)."""
    import wfdb

    ann = wfdb.rdann(str(path), extension)
    samples, symbols = list(ann.sample), list(ann.symbol)
    waves = []
    for k in range(1, len(symbols) - 1):
        if symbols[k] in ("p", "N", "t") and symbols[k - 1] == "(" and symbols[k + 1] == ")":
            waves.append((symbols[k], int(samples[k - 1]), int(samples[k]), int(samples[k + 1])))
    return waves


def reference(path: Path, fs: float = 500.0) -> Reference:
    """Global reference intervals of one LUDB record (see the module docstring)."""
    per_lead = [read_waves(path, ext) for ext in LEAD_FILES]
    qrs = sorted((w[1], w[3], w[2]) for lead in per_lead for w in lead if w[0] == "N")
    beats: list[list[tuple[int, int, int]]] = []
    for on, off, peak in qrs:  # a lead's QRS belongs to the beat whose QRS span it overlaps
        if beats and on <= max(b[1] for b in beats[-1]):
            beats[-1].append((on, off, peak))
        else:
            beats.append([(on, off, peak)])
    bounds = [(min(b[0] for b in beat), max(b[1] for b in beat)) for beat in beats]
    pr, qrs_w, qt = [], [], []
    for k, (on, off) in enumerate(bounds):
        prev_off = bounds[k - 1][1] if k else on - int(0.6 * fs)
        next_on = bounds[k + 1][0] if k + 1 < len(bounds) else off + int(0.8 * fs)
        p_on = [w[1] for lead in per_lead for w in lead if w[0] == "p" and prev_off <= w[2] < on]
        t_off = [w[3] for lead in per_lead for w in lead if w[0] == "t" and off <= w[2] < next_on]
        qrs_w.append((off - on) / fs * 1000)
        if p_on:
            pr.append((on - min(p_on)) / fs * 1000)
        if t_off:
            qt.append((max(t_off) - on) / fs * 1000)
    every = [s for lead in per_lead for w in lead for s in (w[1], w[3])]
    med = lambda v: float(np.median(v)) if v else None  # noqa: E731
    peaks = [np.array(sorted({b[2] for b in beat})) for beat in beats]
    return Reference(med(pr), med(qrs_w), med(qt), peaks, (min(every), max(every)))


def record_info() -> dict[int, dict[str, str]]:
    with open(LUDB / "ludb.csv", newline="", encoding="utf-8") as handle:
        return {int(row["ID"]): {k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)}


def exclusions(info: dict[str, str]) -> tuple[str | None, str | None]:
    """(reason to exclude from all intervals, reason to exclude from PR only)."""
    if info.get("Cardiac pacing"):
        return "paced", "paced"
    rhythm = info.get("Rhythms", "").lower()
    conduction = info.get("Conduction abnormalities", "").lower()
    if "fibrillation" in rhythm or "flutter" in rhythm:
        return None, rhythm.split("\n")[0]
    if "iii degree" in conduction:
        return None, "third-degree AV block"
    return None, None


def match_peaks(detected: np.ndarray, beats: list[np.ndarray], tolerance: int) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives); a detection matches an unmatched annotated beat when it
    lies within ``tolerance`` samples of one of that beat's per-lead QRS peak marks."""
    used = np.zeros(len(beats), dtype=bool)
    tp = 0
    for d in detected:
        dist = np.array([np.abs(marks - d).min() if not used[k] else np.inf for k, marks in enumerate(beats)])
        if len(dist) and dist.min() <= tolerance:
            used[int(np.argmin(dist))] = True
            tp += 1
    return tp, len(detected) - tp, int((~used).sum())


def parse_records(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def run(method: str, records: list[int], details: bool) -> None:
    info = record_info()
    errors: dict[str, list[tuple[int, float]]] = {"pr": [], "qrs": [], "qt": []}
    unmeasured: dict[str, list[int]] = {"pr": [], "qrs": [], "qt": []}
    excluded: dict[str, list[int]] = {}
    counts = {"all": np.zeros(3, int), "unpaced": np.zeros(3, int)}
    seconds = []
    for rid in records:
        path = LUDB / "data" / str(rid)
        ref = reference(path)
        record = read_record(path.with_suffix(".hea"))
        t0 = time.perf_counter()
        try:
            m = measure(record, method=method)
        except EcgInputError as exc:
            print(f"record {rid}: not measured ({exc})")
            continue
        seconds.append(time.perf_counter() - t0)
        all_reason, pr_reason = exclusions(info.get(rid, {}))
        peaks = np.array(m.r_peaks)
        peaks = peaks[(peaks >= ref.span[0]) & (peaks <= ref.span[1])]
        tp_fp_fn = np.array(match_peaks(peaks, ref.qrs_peaks, int(R_TOLERANCE_S * record.fs)))
        counts["all"] += tp_fp_fn
        if all_reason is None:
            counts["unpaced"] += tp_fp_fn
        measured = {"pr": m.pr_ms, "qrs": m.qrs_ms, "qt": m.qt_ms}
        row = []
        for key in errors:
            reason = all_reason or (pr_reason if key == "pr" else None)
            ref_value = getattr(ref, key)
            if reason or ref_value is None:
                excluded.setdefault(f"{key.upper()}: {reason or 'not annotated'}", []).append(rid)
                row.append(f"{key}=excl")
            elif measured[key] is None:
                unmeasured[key].append(rid)
                row.append(f"{key}=None/{ref_value:.0f}")
            else:
                errors[key].append((rid, measured[key] - ref_value))
                row.append(f"{key}={measured[key]:.0f}/{ref_value:.0f}")
        if details:
            print(f"record {rid:3d}: " + "  ".join(row) + f"  R tp/fp/fn={tuple(int(v) for v in tp_fp_fn)}")
    print(f"\nLUDB records {records[0]}–{records[-1]} ({len(records)}), method={method!r}; "
          "error = measured − annotation-derived global reference (ms)")
    for key, (mean_limit, sd_limit) in TARGETS.items():
        values = np.array([e for _, e in errors[key]])
        if not len(values):
            print(f"{key.upper():>4}: no records")
            continue
        mean, sd = float(values.mean()), float(values.std(ddof=1))
        ok = "PASS" if abs(mean) <= mean_limit and sd <= sd_limit else "FAIL"
        odd = np.array([e for r, e in errors[key] if r % 2])
        even = np.array([e for r, e in errors[key] if not r % 2])
        split = (f"odd records {odd.mean():+.1f} ± {odd.std(ddof=1):.1f}, "
                 f"even {even.mean():+.1f} ± {even.std(ddof=1):.1f}")
        print(f"{key.upper():>4}: mean {mean:+6.1f} ± SD {sd:5.1f} ms  (n={len(values)}, median "
              f"{np.median(values):+.0f}, |err|>50 ms: {int((np.abs(values) > 50).sum())}; {split})  "
              f"target |mean| ≤ {mean_limit}, SD ≤ {sd_limit}: {ok}; not measured: {unmeasured[key] or 'none'}")
    for name, (tp, fp, fn) in counts.items():
        label = "all records" if name == "all" else "unpaced records"
        sensitivity, ppv = 100 * tp / max(1, tp + fn), 100 * tp / max(1, tp + fp)
        print(f"R peaks ({label}, ±{R_TOLERANCE_S * 1000:.0f} ms, annotated span only): sensitivity "
              f"{sensitivity:.2f} %, PPV {ppv:.2f} % (TP {tp}, FP {fp}, FN {fn})")
    for reason, ids in sorted(excluded.items()):
        print(f"excluded {reason}: {ids}")
    print(f"measure() time per record: median {1000 * np.median(seconds):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", default="spatial", choices=METHODS)
    parser.add_argument("--records", default="1-100", help="e.g. 1-100 or 1,5,9-12")
    parser.add_argument("--details", action="store_true", help="one line per record")
    args = parser.parse_args()
    if not (LUDB / "data").is_dir():
        sys.exit(f"LUDB not found at {LUDB.resolve()}")
    run(args.method, parse_records(args.records), args.details)


if __name__ == "__main__":
    main()
