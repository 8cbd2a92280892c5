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

    python bench/measure_ludb.py [--method spatial] [--records 1-100] [--details] [--cv 5]

Also prints the error distribution by confidence band (does a confidence ≥ 0.8 promise a small error?), the QT
error against a reference without the single latest lead (LUDB's latest T offset is sometimes one lead annotated
100 ms past the others), and with ``--cv K`` a K-fold cross-validation by record of the tuned thresholds.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass, field
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
TARGETS = {"pr": (10, 10), "qrs": (6, 10), "qt": (25, 30)}
"""|mean| and SD limits (ms): IEC 60601-2-25 tolerances for global intervals (issue 16)."""


@dataclass
class Reference:
    """Annotation-derived global reference of one record (ms, ``None`` when not annotated)."""

    pr: float | None
    qrs: float | None
    qt: float | None
    qt_second: float | None  # QT to the second-latest lead's T offset (one outlying lead's annotation dropped)
    qrs_peaks: list[np.ndarray]  # per annotated beat, the QRS peak marks of its leads (sample indices)
    span: tuple[int, int]  # first and last annotated sample
    qrs_leads: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    """Per annotated beat, the sorted QRS onsets and offsets of its leads (sample indices)."""

    def qrs_order(self, k: int, fs: float = 500.0) -> float | None:
        """QRS (ms) from the (k+1)-th earliest lead onset to the (k+1)-th latest lead offset, median over beats
        (k = 0 is :attr:`qrs`; larger k drop the k most extreme leads' annotations)."""
        widths = [(off[-1 - k] - on[k]) / fs * 1000 for on, off in self.qrs_leads if len(on) > 2 * k + 1]
        return float(np.median(widths)) if widths else None

    def qrs_median_lead(self, fs: float = 500.0) -> float | None:
        """QRS (ms) from the median lead onset to the median lead offset, median over beats."""
        widths = [(np.median(off) - np.median(on)) / fs * 1000 for on, off in self.qrs_leads if len(on) >= 3]
        return float(np.median(widths)) if widths else None


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
    pr, qrs_w, qt, qt2 = [], [], [], []
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
            qt2.append((sorted(t_off)[-2 if len(t_off) > 1 else -1] - on) / fs * 1000)
    every = [s for lead in per_lead for w in lead for s in (w[1], w[3])]
    med = lambda v: float(np.median(v)) if v else None  # noqa: E731
    peaks = [np.array(sorted({b[2] for b in beat})) for beat in beats]
    leads = [(np.sort([b[0] for b in beat]), np.sort([b[1] for b in beat])) for beat in beats]
    return Reference(med(pr), med(qrs_w), med(qt), med(qt2), peaks, (min(every), max(every)), leads)


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


@dataclass
class Scored:
    """One record's measurement against its reference."""

    rid: int
    measured: dict[str, float | None]
    confidence: dict[str, float]
    reference: Reference
    all_reason: str | None
    pr_reason: str | None


def scored_errors(rows: list[Scored], key: str, ref_key: str | None = None) -> list[tuple[int, float, float]]:
    """``(record, error, confidence)`` of one interval over the records where it is scored and measured."""
    out = []
    for row in rows:
        reason = row.all_reason or (row.pr_reason if key == "pr" else None)
        ref = getattr(row.reference, ref_key or key)
        if reason is None and ref is not None and row.measured[key] is not None:
            out.append((row.rid, row.measured[key] - ref, row.confidence[key]))
    return out


def summary(errors: list[tuple[int, float, float]]) -> str:
    values = np.array([e for _, e, _ in errors])
    if len(values) < 2:
        return "n < 2"
    return (f"{values.mean():+6.1f} ± {values.std(ddof=1):5.1f} ms (n={len(values)}, |err|>60 ms: "
            f"{int((np.abs(values) > 60).sum())})")


def band_table(rows: list[Scored]) -> None:
    """Error distribution by confidence band: what a confidence value promises."""
    print("\nerror by confidence band (|measured − reference|, ms):")
    print(f"{'':>4} {'band':>9} {'n':>4} {'median':>7} {'p90':>6} {'max':>6}")
    for key in TARGETS:
        errors = scored_errors(rows, key)
        for name, lo, hi in BANDS:
            v = np.array([abs(e) for _, e, c in errors if lo <= c < hi])
            if not len(v):
                print(f"{key.upper():>4} {name:>9} {0:>4}")
                continue
            print(f"{key.upper():>4} {name:>9} {len(v):>4} {np.median(v):7.0f} {np.percentile(v, 90):6.0f} "
                  f"{v.max():6.0f}")


BANDS = (("< 0.5", 0.0, 0.5), ("0.5–0.8", 0.5, 0.8), ("≥ 0.8", 0.8, 1.01))


def qrs_reference_table(rows: list[Scored]) -> None:
    """QRS error against references that drop the k most extreme leads' annotations on each side, and against the
    median lead: how much of the spread comes from the single earliest / latest lead annotation."""
    parts = []
    for k in range(4):
        errors = [(row.rid, row.measured["qrs"] - ref, 1.0) for row in rows if row.all_reason is None
                  and row.measured["qrs"] is not None and (ref := row.reference.qrs_order(k)) is not None]
        parts.append(f"k={k}: {summary(errors).split(' (')[0]}")
    errors = [(row.rid, row.measured["qrs"] - ref, 1.0) for row in rows if row.all_reason is None
              and row.measured["qrs"] is not None and (ref := row.reference.qrs_median_lead()) is not None]
    parts.append(f"median lead: {summary(errors).split(' (')[0]}")
    print("  QRS against the (k+1)-th earliest onset / latest offset over leads (k=0: the reference above): "
          + "; ".join(parts))


def run(method: str, records: list[int], details: bool) -> list[Scored]:
    info = record_info()
    rows: list[Scored] = []
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
        confidence = {k: m.confidence.get(f"{k}_ms", 0.0) for k in measured}
        rows.append(Scored(rid, measured, confidence, ref, all_reason, pr_reason))
        row = []
        for key in measured:
            reason = all_reason or (pr_reason if key == "pr" else None)
            ref_value = getattr(ref, key)
            if reason or ref_value is None:
                excluded.setdefault(f"{key.upper()}: {reason or 'not annotated'}", []).append(rid)
                row.append(f"{key}=excl")
            elif measured[key] is None:
                unmeasured[key].append(rid)
                row.append(f"{key}=None/{ref_value:.0f}")
            else:
                row.append(f"{key}={measured[key]:.0f}/{ref_value:.0f}@{confidence[key]:.2f}")
        if details:
            print(f"record {rid:3d}: " + "  ".join(row) + f"  R tp/fp/fn={tuple(int(v) for v in tp_fp_fn)}")
    print(f"\nLUDB records {records[0]}–{records[-1]} ({len(records)}), method={method!r}; "
          "error = measured − annotation-derived global reference (ms)")
    for key, (mean_limit, sd_limit) in TARGETS.items():
        errors = scored_errors(rows, key)
        values = np.array([e for _, e, _ in errors])
        if not len(values):
            print(f"{key.upper():>4}: no records")
            continue
        mean, sd = float(values.mean()), float(values.std(ddof=1))
        ok = "PASS" if abs(mean) <= mean_limit and sd <= sd_limit else "FAIL"
        split = (f"odd records {summary([e for e in errors if e[0] % 2])}, "
                 f"even {summary([e for e in errors if not e[0] % 2])}")
        print(f"{key.upper():>4}: mean {mean:+6.1f} ± SD {sd:5.1f} ms  (n={len(values)}, median "
              f"{np.median(values):+.0f}, |err|>50 ms: {int((np.abs(values) > 50).sum())}; {split})  "
              f"target |mean| ≤ {mean_limit}, SD ≤ {sd_limit}: {ok}; not measured: {unmeasured[key] or 'none'}")
    gross = [(r, round(e), round(c, 2)) for r, e, c in scored_errors(rows, "qt") if abs(e) > 60]
    print(f"  QT |err| > 60 ms (record, error, confidence): {gross or 'none'}")
    print(f"  QT against the second-latest lead's T offset (one outlying lead annotation dropped): "
          f"{summary(scored_errors(rows, 'qt', 'qt_second'))}")
    sure = [(r, round(e), round(c, 2)) for r, e, c in scored_errors(rows, "qt") if abs(e) > 60 and c >= 0.8]
    sure2 = [(r, round(e)) for r, e, c in scored_errors(rows, "qt", "qt_second") if abs(e) > 60 and c >= 0.8]
    print(f"  QT |err| > 60 ms at confidence ≥ 0.8: {len(sure)} {sure or ''}; against the second-latest lead: "
          f"{len(sure2)} {sure2 or ''}")
    qrs_reference_table(rows)
    for name, (tp, fp, fn) in counts.items():
        label = "all records" if name == "all" else "unpaced records"
        sensitivity, ppv = 100 * tp / max(1, tp + fn), 100 * tp / max(1, tp + fp)
        print(f"R peaks ({label}, ±{R_TOLERANCE_S * 1000:.0f} ms, annotated span only): sensitivity "
              f"{sensitivity:.2f} %, PPV {ppv:.2f} % (TP {tp}, FP {fp}, FN {fn})")
    for reason, ids in sorted(excluded.items()):
        print(f"excluded {reason}: {ids}")
    print(f"measure() time per record: median {1000 * np.median(seconds):.0f} ms")
    band_table(rows)
    return rows


# --- cross-validation of the tuned thresholds -------------------------------------------------------------------
TUNED: dict[str, tuple[str, str, str, tuple[float, ...]]] = {
    "pr": ("analyze.delineate", "P_ONSET_FRACTION", "p_on", (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)),
    "qrs": ("analyze.delineate", "QRS_SLOPE_MV_S", "qrs", (3.0, 4.0, 5.0, 6.0)),
    "qt": ("analyze.tend", "COMBINE_QUANTILE", "t_off", (0.5, 0.6, 0.75, 0.85, 0.9)),
}
"""Interval → (module, threshold, what it moves, values tried)."""


def cross_validate(records: list[int], folds: int) -> None:
    """K-fold cross-validation by record of each tuned threshold: the value with the smallest mean |error| on the
    other folds is applied to the held-out fold; prints the tuned-part and held-out errors (pooled over folds)."""
    import importlib

    from analyze.beats import clean_signals, detect_beats, median_beats
    from analyze.beats import rhythm_leads as long_leads
    from analyze.delineate import delineate

    info = record_info()
    prepared = []
    for rid in records:
        all_reason, pr_reason = exclusions(info.get(rid, {}))
        if all_reason:
            continue
        path = LUDB / "data" / str(rid)
        record = read_record(path.with_suffix(".hea"))
        clean = clean_signals(record)
        beats = detect_beats(clean, record.fs, long_leads(record, clean))
        rr = float(np.median(np.diff(beats.r_peaks))) / record.fs
        prepared.append((rid, reference(path), pr_reason, median_beats(clean, record.fs, beats), rr, beats.r_peaks))
    print(f"\n{folds}-fold cross-validation by record (fold = record number mod {folds}); "
          "error mean ± SD (ms) pooled over the folds:")
    for key, (module_name, name, _, values) in TUNED.items():
        module = importlib.import_module(module_name)
        default = getattr(module, name)
        errors: dict[float, dict[int, float]] = {}
        for value in values:
            setattr(module, name, value)
            errors[value] = {}
            for rid, ref, pr_reason, median, rr, _ in prepared:
                fid = delineate(median, rr)
                got = _interval(fid, key, median.fs)
                want = getattr(ref, key)
                if got is not None and want is not None and not (key == "pr" and pr_reason):
                    errors[value][rid] = got - want
        setattr(module, name, default)
        train_all, test_all, chosen = [], [], []
        for k in range(folds):
            def cost(v: float, k: int = k, errors: dict[float, dict[int, float]] = errors) -> float:
                return float(np.mean([abs(x) for r, x in errors[v].items() if r % folds != k]))
            best = min(values, key=cost)
            chosen.append(best)
            train_all += [x for r, x in errors[best].items() if r % folds != k]
            test_all += [x for r, x in errors[best].items() if r % folds == k]
        tr, te = np.array(train_all), np.array(test_all)
        print(f"{key.upper():>4}: {module_name}.{name} (in use {default:g}) chosen per fold {chosen}; "
              f"tuned part {tr.mean():+.1f} ± {tr.std(ddof=1):.1f}, held-out {te.mean():+.1f} ± "
              f"{te.std(ddof=1):.1f} (n={len(te)}, |err|>60: {int((np.abs(te) > 60).sum())})")
    qrs_parts(prepared)


def qrs_parts(prepared: list) -> None:
    """QRS onset and offset errors apart (ms, against the earliest lead onset / latest lead offset of each annotated
    beat, relative to the detected QRS fiducial nearest to it): which end the QRS error comes from."""
    from analyze.delineate import delineate

    on_err, off_err = [], []
    for _rid, ref, _pr_reason, median, rr, peaks in prepared:
        fid = delineate(median, rr)
        if fid.qrs_on is None or fid.qrs_off is None:
            continue
        ons, offs = [], []
        for (on, off), marks in zip(ref.qrs_leads, ref.qrs_peaks, strict=True):
            r = peaks[np.argmin(np.abs(peaks - np.median(marks)))]
            if abs(r - np.median(marks)) <= R_TOLERANCE_S * median.fs:
                ons.append(on[0] - r)
                offs.append(off[-1] - r)
        if ons:
            to_ms = 1000.0 / median.fs
            on_err.append((fid.qrs_on - median.r_index - np.median(ons)) * to_ms)
            off_err.append((fid.qrs_off - median.r_index - np.median(offs)) * to_ms)
    a, b = np.array(on_err), np.array(off_err)
    print(f" QRS onset error {a.mean():+.1f} ± {a.std(ddof=1):.1f} ms, offset error {b.mean():+.1f} ± "
          f"{b.std(ddof=1):.1f} ms (n={len(a)}); correlation of the two {np.corrcoef(a, b)[0, 1]:+.2f} (negative: "
          "the reference is wider or narrower than ours at both ends at once)")


def _interval(fid, key: str, fs: float) -> float | None:
    ends = {"pr": (fid.p_on, fid.qrs_on), "qrs": (fid.qrs_on, fid.qrs_off), "qt": (fid.qrs_on, fid.t_off)}[key]
    if ends[0] is None or ends[1] is None:
        return None
    return (ends[1] - ends[0]) * 1000.0 / fs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", default="spatial", choices=METHODS)
    parser.add_argument("--records", default="1-100", help="e.g. 1-100 or 1,5,9-12")
    parser.add_argument("--details", action="store_true", help="one line per record")
    parser.add_argument("--cv", type=int, default=0, metavar="K",
                        help="also cross-validate the tuned thresholds over K folds by record (e.g. 2 or 5)")
    args = parser.parse_args()
    if not (LUDB / "data").is_dir():
        sys.exit(f"LUDB not found at {LUDB.resolve()}")
    run(args.method, parse_records(args.records), args.details)
    if args.cv:
        cross_validate(parse_records(args.records), args.cv)


if __name__ == "__main__":
    main()
