"""Agreement of the waveform rules (`analyze.findings`) with PTB-XL's statements, and the data behind their criteria.

Runs :func:`analyze.measure` over the PTB-XL records in ``../shared/data/ptbxl`` (cached in
``out/findings_ptbxl/``, keyed by a hash of the measuring code, so only ``findings`` reruns when the rules change),
then :func:`analyze.findings` with the record's sex and age, and prints per code: support (positives), TP, FP, FN,
sensitivity, specificity, PPV and F1 against the PTB-XL statements — separately for the calibration split
(``strat_fold`` 1–8, where the criteria in :mod:`analyze.codes` were chosen) and the held-out split (folds 9–10).

Reference labels (Wagner et al., Sci Data 7:154, 2020)
    A statement counts as present when its key is in ``scp_codes`` and, for *diagnostic* statements (NORM, 1AVB,
    WPW, CRBBB, CLBBB, IVCD, LNGQT, ...), its likelihood is ≥ 50 %. Rhythm and form statements (SR, SBRAD, STACH,
    AFIB, LVOLT, LPR, ...) carry likelihood 0 in PTB-XL but are asserted, so any key present counts. A record whose
    diagnostic statement has a likelihood below 50 % is not scored for that code (neither positive nor negative).
    Records with a pacemaker (``PACE``) are excluded throughout: paced QRS complexes are not what the rules read.

Mapping (our code ↔ PTB-XL)
    PVC↔PVC, BIGU↔BIGU, TRIGU↔TRIGU, PAC↔PAC, AFLT↔AFLT, AT↔SVTAC or PSVT (rhythm / form statements: any key
    counts), NORM↔NORM, SR↔SR, SBRAD↔SBRAD, STACH↔STACH, AFIB↔AFIB (atrial-flutter records, AFLT, are not scored
    for AFIB: flutter with variable block fires the rule legitimately), 1AVB↔1AVB or LPR (prolonged PR), WPW↔WPW,
    CRBBB↔CRBBB, CLBBB↔CLBBB, IVCD↔IVCD, LQT↔LNGQT, LVOLT↔LVOLT. LAD and RAD have no SCP statement; they are
    scored against PTB-XL's ``heart_axis`` column where it is filled (LAD ↔ ``ALAD``, the German "überdrehter
    Linkstyp" < −30°; RAD ↔ ``RAD``/``ARAD``/``AXR``) — an indication only, that column being partly machine-made.
    SQT has no PTB-XL counterpart and is not scored.

Usage::

    python bench/findings_ptbxl.py [--jobs 1] [--criteria calibrated|guideline] [--calibrate] [--misfires CODE]
                                   [--ceiling CRITERION]

``--ceiling pr_long_ms`` sweeps one criterion of :data:`SWEEPS` (× the confidence gate ``min_confidence``) on the
held-out folds and prints the best F1 any value reaches there: an upper bound of what moving that threshold could
give, never a choice (choosing on held-out data would make the held-out figure meaningless).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analyze import codes as C  # noqa: E402
from analyze.findings import findings  # noqa: E402
from analyze.measure import Measurements, measure  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import read_record  # noqa: E402

PTBXL = REPO / ".." / "shared" / "data" / "ptbxl"
CACHE = REPO / "out" / "findings_ptbxl"
MEASURING_CODE = ("atrial.py", "axis.py", "beats.py", "confidence.py", "delineate.py", "delineate_nk.py",
                  "ectopy.py", "measure.py", "morphology.py", "rhythm.py", "tend.py")
"""The modules whose source keys the measurement cache (a change in any of them re-measures)."""

CALIBRATION_FOLDS, HELD_OUT_FOLDS = tuple(range(1, 9)), (9, 10)
MIN_DIAGNOSTIC_LIKELIHOOD = 50.0

SCORED: dict[str, tuple[str, ...]] = {
    "NORM": ("NORM",), "SR": ("SR",), "SBRAD": ("SBRAD",), "STACH": ("STACH",), "AFIB": ("AFIB",),
    "1AVB": ("1AVB", "LPR"), "WPW": ("WPW",), "CRBBB": ("CRBBB",), "CLBBB": ("CLBBB",), "IVCD": ("IVCD",),
    "LQT": ("LNGQT",), "LVOLT": ("LVOLT",), "PVC": ("PVC",), "BIGU": ("BIGU",), "TRIGU": ("TRIGU",),
    "PAC": ("PAC",), "AFLT": ("AFLT",), "AT": ("SVTAC", "PSVT"),
}
"""Our code → the PTB-XL statements that make a record positive for it."""
NOT_SCORED: dict[str, tuple[str, ...]] = {"AFIB": ("AFLT",)}
"""Our code → PTB-XL statements whose records are left out of that code's figures."""
AXIS_SCORED: dict[str, tuple[str, ...]] = {"LAD": ("ALAD",), "RAD": ("RAD", "ARAD", "AXR")}
"""Our axis codes → PTB-XL ``heart_axis`` values that make a record positive (scored where the column is filled)."""


# --- labels ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Labels:
    """PTB-XL statements of one record: present, and diagnostic ones below the likelihood limit (uncertain)."""

    present: frozenset[str]
    uncertain: frozenset[str]
    heart_axis: str | None


def load_database() -> pd.DataFrame:
    """``ptbxl_database.csv`` with parsed labels, ``sex`` as M/F, and PACE records dropped."""
    db = pd.read_csv(PTBXL / "ptbxl_database.csv")
    statements = pd.read_csv(PTBXL / "scp_statements.csv", index_col=0)
    diagnostic = set(statements.index[statements["diagnostic"] == 1])
    labels = []
    for text, axis in zip(db["scp_codes"], db["heart_axis"], strict=True):
        codes = ast.literal_eval(text)
        present = {k for k, v in codes.items() if k not in diagnostic or v >= MIN_DIAGNOSTIC_LIKELIHOOD}
        uncertain = set(codes) - present
        labels.append(Labels(frozenset(present), frozenset(uncertain), axis if isinstance(axis, str) else None))
    db["labels"] = labels
    db["sex_mf"] = db["sex"].map({0: "M", 1: "F"})
    db["path"] = [PTBXL / f"{name}.hea" for name in db["filename_hr"]]
    paced = db["labels"].map(lambda lab: "PACE" in lab.present or "PACE" in lab.uncertain)
    return db[~paced].reset_index(drop=True)


# --- measuring (cached) ---------------------------------------------------------------------------------------
def code_version() -> str:
    digest = hashlib.sha256()
    for name in MEASURING_CODE:
        digest.update((REPO / "analyze" / name).read_bytes())
    return digest.hexdigest()[:12]


def _measure_one(path: Path) -> tuple[dict | None, str | None, float]:
    record = read_record(path)
    t0 = time.perf_counter()
    try:
        result = measure(record).to_dict()
        return result, None, time.perf_counter() - t0
    except EcgInputError as exc:
        return None, str(exc), time.perf_counter() - t0


def measurements(db: pd.DataFrame, jobs: int) -> dict[int, Measurements | str]:
    """``{ecg_id: Measurements or the reason it was not measurable}``, measuring only what the cache lacks."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cache_file = CACHE / f"measurements_{code_version()}.jsonl"
    cached: dict[int, dict] = {}
    if cache_file.exists():
        for line in cache_file.read_text().splitlines():
            row = json.loads(line)
            cached[row["ecg_id"]] = row
    todo = [(int(i), p) for i, p in zip(db["ecg_id"], db["path"], strict=True) if int(i) not in cached]
    if todo:
        print(f"measuring {len(todo)} records ({jobs} process(es)); cache {cache_file.relative_to(REPO)}",
              flush=True)
        t0 = time.perf_counter()
        with open(cache_file, "a") as out:
            if jobs > 1:
                with ProcessPoolExecutor(jobs) as pool:
                    results = pool.map(_measure_one, [p for _, p in todo], chunksize=8)
                    _write(out, todo, results, cached, t0)
            else:
                _write(out, todo, map(_measure_one, [p for _, p in todo]), cached, t0)
    return {i: Measurements.from_dict(r["measurements"]) if r["measurements"] else r["error"]
            for i, r in cached.items()}


def _write(out: TextIO, todo: list[tuple[int, Path]], results: Iterable[tuple[dict | None, str | None, float]],
           cached: dict[int, dict], t0: float) -> None:
    """Append each result to the cache file as it arrives (an interrupted run resumes where it stopped)."""
    for k, ((ecg_id, _), (result, error, seconds)) in enumerate(zip(todo, results, strict=True), 1):
        row = {"ecg_id": ecg_id, "measurements": result, "error": error, "seconds": round(seconds, 4)}
        cached[ecg_id] = row
        out.write(json.dumps(row) + "\n")
        if k % 100 == 0:
            out.flush()
            print(f"  {k}/{len(todo)} in {time.perf_counter() - t0:.0f} s", flush=True)


# --- scoring --------------------------------------------------------------------------------------------------
def fired_codes(db: pd.DataFrame, measured: dict[int, Measurements | str], criteria: C.Criteria) -> list[set[str]]:
    out = []
    for ecg_id, sex, age in zip(db["ecg_id"], db["sex_mf"], db["age"], strict=True):
        m = measured[int(ecg_id)]
        if isinstance(m, str):
            out.append(set())
            continue
        age_years = None if not np.isfinite(age) or age >= 300 else float(age)  # PTB-XL codes > 89 y as 300
        out.append({f.code for f in findings(m, sex=sex, age=age_years, criteria=criteria)})
    return out


def truth(labels: Labels, code: str) -> bool | None:
    """Whether PTB-XL states ``code`` for the record (``None``: not scored)."""
    if code in AXIS_SCORED:
        return None if labels.heart_axis is None else labels.heart_axis in AXIS_SCORED[code]
    targets = SCORED[code]
    if any(t in labels.present for t in targets):
        return True
    if any(t in labels.uncertain for t in targets) or any(t in labels.present for t in NOT_SCORED.get(code, ())):
        return None
    return False


@dataclass(frozen=True)
class Score:
    support: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def sensitivity(self) -> float:
        return self.tp / self.support if self.support else float("nan")

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else float("nan")

    @property
    def ppv(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else float("nan")


def score(y_true: list[bool | None], y_fired: list[bool]) -> Score:
    pairs = [(t, f) for t, f in zip(y_true, y_fired, strict=True) if t is not None]
    tp = sum(t and f for t, f in pairs)
    fp = sum((not t) and f for t, f in pairs)
    fn = sum(t and not f for t, f in pairs)
    tn = sum((not t) and not f for t, f in pairs)
    return Score(tp + fn, tp, fp, fn, tn)


def table(db: pd.DataFrame, fired: list[set[str]], title: str) -> None:
    print(f"\n{title}: {len(db)} records")
    print(f"{'code':<6} {'PTB-XL':<14} {'support':>7} {'TP':>4} {'FP':>4} {'FN':>4} {'sens':>6} {'spec':>6} "
          f"{'PPV':>6} {'F1':>6}")
    for code in [*SCORED, *AXIS_SCORED]:
        s = score([truth(lab, code) for lab in db["labels"]], [code in f for f in fired])
        ref = "/".join(SCORED.get(code) or ("axis " + "/".join(AXIS_SCORED[code]),))
        print(f"{code:<6} {ref:<14} {s.support:>7} {s.tp:>4} {s.fp:>4} {s.fn:>4} {_pct(s.sensitivity)} "
              f"{_pct(s.specificity)} {_pct(s.ppv)} {_pct(s.f1)}")


def _pct(x: float) -> str:
    return f"{'—':>6}" if not np.isfinite(x) else f"{100 * x:5.1f}%"


def split(db: pd.DataFrame, folds: tuple[int, ...]) -> pd.DataFrame:
    return db[db["strat_fold"].isin(folds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1, help="processes for measuring (1–2 on a shared machine)")
    parser.add_argument("--criteria", default="calibrated", choices=sorted(C.CRITERIA))
    parser.add_argument("--calibrate", action="store_true",
                        help="print the folds 1–8 data each calibrated threshold was chosen from")
    parser.add_argument("--misfires", metavar="CODE", help="list the false positives / negatives of one code")
    parser.add_argument("--ceiling", metavar="CRITERION", choices=sorted(SWEEPS),
                        help="best held-out F1 any value of CRITERION reaches (an upper bound, not a choice)")
    args = parser.parse_args()
    if not (PTBXL / "ptbxl_database.csv").is_file():
        sys.exit(f"PTB-XL not found at {PTBXL.resolve()}")
    db = load_database()
    measured = measurements(db, args.jobs)
    failed = {i: m for i, m in measured.items() if isinstance(m, str)}
    criteria = C.CRITERIA[args.criteria]
    print(f"PTB-XL: {len(db)} records without pacemaker; not measurable: {len(failed)}"
          + (f" ({', '.join(f'{i}: {e}' for i, e in list(failed.items())[:3])})" if failed else ""))
    seconds = [json.loads(line)["seconds"] for line in
               (CACHE / f"measurements_{code_version()}.jsonl").read_text().splitlines()]
    print(f"measure() time per record: median {1000 * np.median(seconds):.0f} ms (when measured)")
    if args.calibrate:
        calibrate(split(db, CALIBRATION_FOLDS), measured, criteria)
    if args.misfires:
        misfires(db, measured, criteria, args.misfires)
    if args.ceiling:
        ceiling(split(db, HELD_OUT_FOLDS), measured, criteria, args.ceiling)
    for name, folds in (("calibration (strat_fold 1–8)", CALIBRATION_FOLDS),
                        ("held-out (strat_fold 9–10)", HELD_OUT_FOLDS)):
        part = split(db, folds)
        table(part, fired_codes(part, measured, criteria), f"{name}, criteria={args.criteria!r}")


def misfires(db: pd.DataFrame, measured: dict[int, Measurements | str], criteria: C.Criteria, code: str) -> None:
    part = split(db, CALIBRATION_FOLDS)
    fired = fired_codes(part, measured, criteria)
    print(f"\nmisfires of {code} on folds 1–8 (id, PTB-XL statements, fired, key measurements):")
    for (_, row), f in zip(part.iterrows(), fired, strict=True):
        t = truth(row["labels"], code)
        if t is None or t == (code in f):
            continue
        m = measured[int(row["ecg_id"])]
        keys = "" if isinstance(m, str) else (
            f"HR {m.heart_rate_bpm} PR {m.pr_ms} QRS {m.qrs_ms} QTcF {m.qtc_fridericia_ms} axis {m.qrs_axis_deg} "
            f"irr {m.rr_irregularity} Pc {m.p_wave_consistency}")
        print(f"  {'FN' if t else 'FP'} {row['ecg_id']:>5} {sorted(row['labels'].present)} fired={sorted(f)} {keys}")


# --- calibration (folds 1–8 only) -----------------------------------------------------------------------------
REFERENCE_MEDIANS = {"qrs_ms": {"M": 92.0, "F": 86.0}, "pr_ms": {"M": 164.0, "F": 158.0},
                     "qtc_fridericia_ms": {"M": 410.0, "F": 421.0}}
"""Median intervals of healthy adults measured by a commercial program (Glasgow), men / women: ELSA-Brasil, 11,094
adults without heart disease (Pinto-Filho et al., Arq Bras Cardiol 109:416, 2017): the narrow convention the
guideline thresholds were written for. The paper's corrected QT is used for Fridericia's: at its median rate (63–66
/min) the usual corrections differ by less than 10 ms."""

SWEEPS: dict[str, tuple[str, np.ndarray]] = {
    "brady_bpm": ("SBRAD", np.arange(45.0, 62.0, 1.0)),
    "tachy_bpm": ("STACH", np.arange(90.0, 111.0, 1.0)),
    "p_axis_min_deg": ("SR", np.arange(-60.0, 11.0, 5.0)),
    "irregular_rr": ("AFIB", np.arange(0.04, 0.16, 0.01)),
    "p_consistent": ("AFIB", np.arange(0.3, 0.85, 0.05)),
    "pr_long_ms": ("1AVB", np.arange(190.0, 241.0, 5.0)),
    "qrs_wide_ms": ("IVCD", np.arange(120.0, 171.0, 4.0)),
    "qrs_bbb_ms": ("CRBBB", np.arange(120.0, 181.0, 5.0)),
    "lad_deg": ("LAD", np.arange(-50.0, -14.0, 5.0)),
    "rad_deg": ("RAD", np.arange(70.0, 111.0, 5.0)),
    "low_limb_mv": ("LVOLT", np.arange(0.3, 0.85, 0.05)),
}
"""Criterion → the code it decides and the values tried."""


INTERVAL_LIMITS: dict[str, tuple[str, str, str | None]] = {
    "qrs_wide_ms": ("qrs_ms", "upper", None),
    "qrs_bbb_ms": ("qrs_ms", "shift", None),
    "qrs_preexcited_ms": ("qrs_ms", "shift", None),
    "pr_long_ms": ("pr_ms", "upper", None),
    "pr_short_ms": ("pr_ms", "lower", None),
    "qtc_long_male_ms": ("qtc_fridericia_ms", "upper", "M"),
    "qtc_long_female_ms": ("qtc_fridericia_ms", "upper", "F"),
    "qtc_short_ms": ("qtc_fridericia_ms", "lower", None),
}
"""Interval criterion → (measurement, kind, sex). ``upper``/``lower`` limits are normal limits (the guideline value
sits near the 98th / 2nd percentile of healthy adults); ``shift`` thresholds are diagnostic cut-offs beyond them."""


def proposed_interval_limits(norm: pd.DataFrame, measured: dict[int, Measurements | str]) -> dict[str, float]:
    """The calibration rule for interval thresholds (see :mod:`analyze.codes`), on the NORM records given.

    Convention offset Δ = our NORM median − the Glasgow median of healthy adults (:data:`REFERENCE_MEDIANS`), for
    each sex, averaged over the sexes (or of that sex for a sex-specific limit). A ``shift`` threshold is the
    guideline + Δ; an ``upper`` (``lower``) normal limit is the larger (smaller) of guideline + Δ and our NORM 98th
    (2nd) percentile — our measurement spreads more than a commercial program's, so a pure shift would call more
    than 2 % of normal records abnormal. Rounded to 5 ms.
    """
    out = {}
    for name, (key, kind, sex) in INTERVAL_LIMITS.items():
        sexes = (sex,) if sex else ("M", "F")
        offsets = [np.median(_values(norm[norm["sex_mf"] == s], measured, key)) - REFERENCE_MEDIANS[key][s]
                   for s in sexes]
        shifted = getattr(C.GUIDELINE, name) + float(np.mean(offsets))
        rows = norm[norm["sex_mf"] == sex] if sex else norm
        if kind == "upper":
            value = max(shifted, float(np.percentile(_values(rows, measured, key), 98)))
        elif kind == "lower":
            value = min(shifted, float(np.percentile(_values(rows, measured, key), 2)))
        else:
            value = shifted
        out[name] = 5.0 * round(value / 5.0)
    return out


def calibrate(part: pd.DataFrame, measured: dict[int, Measurements | str], criteria: C.Criteria) -> None:
    """Print what the calibrated criteria were chosen from: NORM percentiles, convention offsets, proposed interval
    limits, and one-criterion sweeps of F1 / Youden's J against the PTB-XL statements."""
    norm = part[[truth(lab, "NORM") is True for lab in part["labels"]]]
    print(f"\ncalibration data: strat_fold 1–8, {len(part)} records, {len(norm)} NORM")
    print("interval        sex  NORM p2  p50  p98   glasgow median  offset (our p50 − glasgow)")
    for key, by_sex in REFERENCE_MEDIANS.items():
        for sex in ("M", "F", None):
            values = _values(norm[norm["sex_mf"] == sex] if sex else norm, measured, key)
            p2, p50, p98 = np.percentile(values, [2, 50, 98])
            ref = f"{by_sex[sex]:14.0f}  {p50 - by_sex[sex]:+7.0f}" if sex else ""
            print(f"{key:<15} {sex or 'all':>3} {p2:8.0f} {p50:4.0f} {p98:4.0f}   {ref}")
    print("\ninterval limits by the calibration rule (guideline → proposed; in use):")
    for name, value in proposed_interval_limits(norm, measured).items():
        print(f"  {name:<20} {getattr(C.GUIDELINE, name):5.0f} → {value:5.0f}   ({getattr(criteria, name):g})")
    for key in ("heart_rate_bpm", "qrs_axis_deg", "p_axis_deg", "rr_irregularity", "p_wave_consistency"):
        values = _values(norm, measured, key)
        print(f"{key:<19} NORM p1/p2/p50/p98/p99: {np.round(np.percentile(values, [1, 2, 50, 98, 99]), 2)}")
    low_limb = [max(x.qrs_pp_mv for n in ("I", "II", "III", "aVR", "aVL", "aVF") if (x := m.lead(n)))
                for i in norm["ecg_id"] if not isinstance(m := measured[int(i)], str) and m.leads]
    print(f"max limb QRS (mV)   NORM p1/p2/p50: {np.round(np.percentile(low_limb, [1, 2, 50]), 2)}")
    print("\nsweeps (one criterion at a time, the others as in use; scored on folds 1–8):")
    for name, (code, values) in SWEEPS.items():
        rows = []
        for value in values:
            trial = replace(criteria, **{name: float(round(value, 3))})
            fired = [code in f for f in fired_codes(part, measured, trial)]
            s = score([truth(lab, code) for lab in part["labels"]], fired)
            rows.append((value, s.f1, s.sensitivity + s.specificity - 1, s))
        best_f1 = max(rows, key=lambda r: (np.nan_to_num(r[1]), -abs(r[0] - getattr(criteria, name))))
        best_j = max(rows, key=lambda r: (np.nan_to_num(r[2]), -abs(r[0] - getattr(criteria, name))))
        print(f"{name:<18} → {code:<6} (support {rows[0][3].support}): in use {getattr(criteria, name):g}; "
              f"best F1 {best_f1[1]:.2f} at {best_f1[0]:g}; best Youden {best_j[2]:.2f} at {best_j[0]:g}")
        print("    " + "  ".join(f"{v:g}:{f1:.2f}" for v, f1, _, _ in rows))


def ceiling(part: pd.DataFrame, measured: dict[int, Measurements | str], criteria: C.Criteria, name: str) -> None:
    """Held-out F1 of the code of ``name`` over its sweep values × confidence gates 0–0.9 (an upper bound)."""
    code, values = SWEEPS[name]
    y = [truth(lab, code) for lab in part["labels"]]
    gates = (0.0, 0.3, 0.5, 0.7, 0.9)
    print(f"\nceiling of {name} → {code} on held-out folds 9–10 (support {score(y, [False] * len(y)).support}; "
          f"TP/FP/F1; an upper bound, not a choice)")
    print(f"{'value':>7}  " + "  ".join(f"{'gate ' + format(g, 'g'):>14}" for g in gates))
    best = (0.0, None, None)
    for value in values:
        cells = []
        for gate in gates:
            trial = replace(criteria, **{name: float(round(value, 3)), "min_confidence": gate})
            s = score(y, [code in f for f in fired_codes(part, measured, trial)])
            cells.append(f"{s.tp:>4}/{s.fp:<4} {np.nan_to_num(s.f1):.2f}")
            if np.nan_to_num(s.f1) > best[0]:
                best = (float(s.f1), value, gate)
        print(f"{value:7g}  " + "  ".join(f"{c:>14}" for c in cells))
    print(f"best held-out F1 {best[0]:.2f} at {name} {best[1]:g}, gate {best[2]:g} "
          f"(in use: {getattr(criteria, name):g}, gate {criteria.min_confidence:g})")


def _values(rows: pd.DataFrame, measured: dict[int, Measurements | str], key: str) -> np.ndarray:
    out = [getattr(m, key) for i in rows["ecg_id"] if not isinstance(m := measured[int(i)], str)]
    return np.array([v for v in out if v is not None], dtype=float)


if __name__ == "__main__":
    main()
