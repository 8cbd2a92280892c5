"""Screening figures on held-out images: each source alone, the combined calibrated probability, the screening
verdict at the shipped operating point, and the old (schema 1.0) status rule for comparison.

    python bench/screening_eval.py --cache out/screening/foreign-test.jsonl --cache out/screening/kit-dev.jsonl \
        --plot docs/screening_reliability.png

Reads the per-image cache of :mod:`classify.train.screening_cache` (digitized by the current digitizer, both image
classifiers' outputs) and runs the shipped ``models/waveform.onnx`` and ``models/screening.json`` on it. Never fit
anything here: the sets named must be held out from the screening model's fit (the script refuses a set that the
manifest says it was fitted on). Sensitivity and specificity are over the images that pass the quality gate; the
gated ones are counted separately.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyze.codes import CODES  # noqa: E402
from analyze.findings import Finding  # noqa: E402
from classify.agreement import auroc, auroc_ci, reliability, wilson_ci  # noqa: E402
from classify.crosscheck import crosscheck, fusion_verdicts, tiled_verdicts, waveform_verdicts  # noqa: E402
from classify.manifest import read_manifest  # noqa: E402
from classify.screening import ScreeningModel  # noqa: E402
from classify.train.screening import design, usable  # noqa: E402
from classify.train.screening_cache import read_cache  # noqa: E402
from report.model import MIN_GOOD_LEADS, MIN_QUALITY, screening_status  # noqa: E402


def gated(row: dict) -> bool:
    """The report's quality gate: not measurable, quality < 0.35 or fewer than 6 confident leads."""
    return (not row.get("measurable") or (row.get("quality") is not None and row["quality"] < MIN_QUALITY)
            or (row.get("good_leads") is not None and row["good_leads"] < MIN_GOOD_LEADS))


def old_rule(row: dict, thresholds: dict[str, float], fusion_threshold: float) -> bool:
    """The schema 1.0 status: any abnormal statement, any counted source abnormal, or any disagreement."""
    found = [Finding(code, "") for code in row.get("codes") or []] if row.get("codes") is not None else None
    tiled = row["tiled"]
    labels = [c for c, p in tiled.items() if p >= thresholds[c]]
    fusion_label = "abnormal" if row["fusion"] >= fusion_threshold else "normal"
    check = crosscheck(waveform_verdicts(found), tiled_verdicts(tiled, labels, row["tiled_validated"]),
                       fusion_verdicts(row["fusion"], fusion_label, fusion_threshold))
    status = screening_status(
        measurable=True, quality=None, good_leads=None,
        abnormal_findings=[c for c in row.get("codes") or [] if CODES[c].abnormal],
        abnormal_sources=[s for s, v in check.label("ABNORMAL").counted.items() if v],
        disagreements=[c.label for c in check.disagreements])
    return status.screening == "abnormal — review"


def rate(hits: int, n: int) -> str:
    if n == 0:
        return "n/a"
    lo, hi = wilson_ci(hits, n) or (float("nan"), float("nan"))
    return f"{hits / n:.3f} [{lo:.2f}–{hi:.2f}] ({hits}/{n})"


def f1(truth: np.ndarray, pred: np.ndarray) -> float:
    tp = int((truth & pred).sum())
    denom = 2 * tp + int((~truth & pred).sum()) + int((truth & ~pred).sum())
    return 2 * tp / denom if denom else float("nan")


def evaluate(name: str, rows: list[dict], models_dir: Path, screening: ScreeningModel) -> dict:
    rows = usable(rows)
    X, y, p_wave, wave = design(rows, models_dir, screening.sources)
    p = screening.probabilities(X)
    keep = np.array([not gated(r) for r in rows])
    manifest = read_manifest(models_dir)
    thresholds = {c: float(v) for c, v in manifest["tiled"].thresholds.items()}
    fusion_thr = float(manifest["fusion"].thresholds["abnormal"])
    old = np.array([old_rule(r, thresholds, fusion_thr) for r in rows])
    new = p >= screening.operating_point
    k = wave.classes.index("ABNORMAL")
    sources = {"fusion": np.array([r["fusion"] for r in rows]),
               "tiled (1 − NORM)": np.array([1 - r["tiled"]["NORM"] for r in rows]),
               "waveform classifier": p_wave[:, k],
               "waveform rules (flag)": np.array([r.get("rule_abnormal") or 0 for r in rows], dtype=float)}
    print(f"\n== {name}: {len(rows)} images, {int(y.sum())} abnormal; {int((~keep).sum())} fail the quality gate")
    if set(screening.sources) != {"fusion", "tiled", "waveform", "rules"}:
        print(f"  screening model inputs: {', '.join(screening.sources)}")
    for source, score in sources.items():
        print(f"  AUROC {source:<24} {auroc(y, score):.3f}")
    ci = auroc_ci(y, p) or (float("nan"), float("nan"))
    print(f"  AUROC combined (screening model)  {auroc(y, p):.3f} [95 % CI {ci[0]:.3f}–{ci[1]:.3f}]")
    yk, newk, oldk = y[keep].astype(bool), new[keep], old[keep]
    print(f"  screening @ operating point {screening.operating_point:.3f} (images passing the gate):")
    print(f"    sensitivity {rate(int((newk & yk).sum()), int(yk.sum()))}")
    print(f"    specificity {rate(int((~newk & ~yk).sum()), int((~yk).sum()))}")
    print("  old status rule (schema 1.0):")
    print(f"    sensitivity {rate(int((oldk & yk).sum()), int(yk.sum()))}")
    print(f"    specificity {rate(int((~oldk & ~yk).sum()), int((~yk).sum()))}")
    print("  waveform classifier per label (AUROC; F1 at the shipped threshold; positives):")
    for j, label in enumerate(wave.classes):
        truth = np.array([bool(r["labels"].get(label)) for r in rows])
        if truth.sum() == 0:
            continue
        pred = p_wave[:, j] >= wave.thresholds[label]
        mark = "" if label in wave.validated else "  (not validated)"
        print(f"    {label:<9} AUROC {auroc(truth, p_wave[:, j]):.3f}  F1 {f1(truth, pred):.3f}  n+ {int(truth.sum())}"
              f"{mark}")
    return {"y": y, "p": p}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, action="append", required=True)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--plot", type=Path, default=None, help="reliability PNG (all given sets pooled)")
    args = parser.parse_args(argv)
    screening = ScreeningModel.load(args.models_dir)
    fitted_on = set((screening.document or {}).get("fitted_on", {}).get("sets", []))
    pooled_y, pooled_p, names = [], [], []
    for path in args.cache:
        rows = read_cache([path])
        sets = {r["set"] for r in rows}
        if sets & fitted_on:
            raise SystemExit(f"{path}: set(s) {sorted(sets & fitted_on)} were used to fit the screening model")
        out = evaluate(path.stem, rows, args.models_dir, screening)
        pooled_y.append(out["y"])
        pooled_p.append(out["p"])
        names.append(path.stem)
    if args.plot:
        from report.agreement import plot_reliability

        y, p = np.concatenate(pooled_y), np.concatenate(pooled_p)
        bins = reliability(y, p)
        plot_reliability(bins, args.plot, f"Screening calibration, held-out images\n{' + '.join(names)} (n={len(y)})")
        print(f"\nreliability plot → {args.plot}")
        print(json.dumps([{k: round(v, 3) if isinstance(v, float) else v for k, v in b.items()} for b in bins]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
