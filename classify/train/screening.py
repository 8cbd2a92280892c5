"""Fit the screening model (:mod:`classify.screening`) on a cache of per-image source outputs and ship it as
``models/screening.json`` with a manifest entry. Minutes, not hours: it reads the cache
(:mod:`classify.train.screening_cache`), runs the shipped waveform classifier on the cached features, and fits a
seven-input logistic regression.

    python -m classify.train.screening --cache out/screening/foreign-val.jsonl [--cache MORE.jsonl] --models-dir models

Steps: stacker (L2 logistic regression, strength chosen by cross-validated log-loss) → its 5-fold cross-validated
outputs → Platt scaling fitted on those →
operating point = the highest calibrated probability at which the cross-validated sensitivity is still ≥
``--target-sensitivity`` → final stacker on all rows. When the tiled network is retrained, refresh the cache's
classifier outputs (``screening_cache --refresh-classifiers``) and run this again.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from classify.screening import (
    SCREENING_FEATURES,
    SOURCES,
    ScreeningInputs,
    ScreeningModel,
    good_lead_share,
    only_sources,
    screening_features,
)


def row_inputs(row: dict[str, Any], waveform_p: float | None, waveform_validated: bool) -> ScreeningInputs:
    """:class:`ScreeningInputs` of one cache row (tiled NORM counted only when the cached model validated it)."""
    tiled = row.get("tiled") or {}
    tiled_norm = tiled.get("NORM") if "NORM" in (row.get("tiled_validated") or []) else None
    return ScreeningInputs(
        fusion=row.get("fusion"),
        tiled_norm=tiled_norm,
        waveform=waveform_p if waveform_validated else None,
        rule_abnormal=None if row.get("rule_abnormal") is None else bool(row["rule_abnormal"]),
        quality=row.get("quality"),
        good_lead_share=good_lead_share(row.get("lead_confidence")),
    )


def waveform_probabilities(rows: list[dict[str, Any]], models_dir: Path | None) -> tuple[np.ndarray, Any]:
    """The shipped waveform classifier's probabilities ``(n, labels)`` on the cached features, and the classifier."""
    from classify.features import FEATURE_VERSION
    from classify.waveform import WaveformClassifier

    model = WaveformClassifier(models_dir)
    for row in rows:
        if row.get("feature_version") != FEATURE_VERSION:
            raise SystemExit(f"cache row {row['name']} has features {row.get('feature_version')}; rebuild the cache")
    X = np.array([[np.nan if v is None else v for v in r["features"]] for r in rows], dtype=np.float32)
    return (model.probabilities(X) if len(rows) else np.zeros((0, len(model.classes)))), model


def usable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows that ran without error and have an ABNORMAL label."""
    return [r for r in rows if "error" not in r and r["labels"].get("ABNORMAL") is not None]


def design(
    rows: list[dict[str, Any]], models_dir: Path | None, sources: tuple[str, ...] = SOURCES
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Screening features ``(n, 11)`` (sources not in ``sources`` as missing), ABNORMAL labels, waveform
    probabilities, and the waveform classifier."""
    p, model = waveform_probabilities(rows, models_dir)
    k = model.classes.index("ABNORMAL")
    validated = "ABNORMAL" in model.validated
    X = np.array([screening_features(only_sources(row_inputs(r, float(p[i, k]), validated), sources))
                  for i, r in enumerate(rows)])
    y = np.array([int(r["labels"]["ABNORMAL"]) for r in rows])
    return X.reshape(-1, len(SCREENING_FEATURES)), y, p, model


def operating_point(y: np.ndarray, p: np.ndarray, target: float) -> float:
    """Highest threshold whose sensitivity (p ≥ threshold) on ``y`` is ≥ ``target``."""
    positives = np.sort(p[y == 1])[::-1]
    need = int(np.ceil(target * len(positives)))
    return float(positives[max(need - 1, 0)]) if len(positives) else 0.5


C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
"""Inverse L2 strengths tried; the one with the lowest cross-validated log-loss is kept."""


def _oof_decision(X: np.ndarray, y: np.ndarray, C: float, folds: int, seed: int) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        oof[test] = LogisticRegression(C=C, max_iter=2000).fit(X[train], y[train]).decision_function(X[test])
    return oof


def fit(X: np.ndarray, y: np.ndarray, *, target: float, folds: int = 5, seed: int = 0, C: float | None = None) -> dict:
    """Stacker (L2 strength by cross-validated log-loss over :data:`C_GRID` unless ``C`` is given), Platt calibration
    on cross-validated outputs, operating point; returns the JSON document's core."""
    from sklearn.linear_model import LogisticRegression

    def log_loss(d: np.ndarray) -> float:
        p = np.clip(1 / (1 + np.exp(-d)), 1e-6, 1 - 1e-6)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    grid = {c: _oof_decision(X, y, c, folds, seed) for c in ((C,) if C else C_GRID)}
    losses = {c: log_loss(d) for c, d in grid.items()}
    C = min(losses, key=losses.get)  # type: ignore[arg-type]
    oof = grid[C]
    platt = LogisticRegression(C=1e6, max_iter=2000).fit(oof[:, None], y)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    calibrated = 1.0 / (1.0 + np.exp(-(a * oof + b)))
    final = LogisticRegression(C=C, max_iter=2000).fit(X, y)
    return {
        "feature_order": list(SCREENING_FEATURES),
        "coefficients": [float(c) for c in final.coef_[0]],
        "intercept": float(final.intercept_[0]),
        "calibration": {"method": "platt", "a": a, "b": b, "fitted_on": f"{folds}-fold cross-validated outputs"},
        "operating_point": operating_point(y, calibrated, target),
        "target_sensitivity": target,
        "regularisation_C": C,
        "cv_log_loss": {str(c): round(v, 4) for c, v in losses.items()},
        "_oof": calibrated,
    }


def figures(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """AUROC with 95 % CI, sensitivity/specificity at ``threshold``, Brier score, expected calibration error."""
    from classify.train.metrics import auroc, bootstrap_ci

    pred = p >= threshold
    pos, neg = y == 1, y == 0
    bins = np.clip((p * 10).astype(int), 0, 9)
    ece = sum(abs(p[bins == k].mean() - y[bins == k].mean()) * (bins == k).mean()
              for k in range(10) if (bins == k).any())
    return {"images": int(len(y)), "abnormal": int(pos.sum()), "auroc": auroc(y, p), "auroc_ci95": bootstrap_ci(y, p),
            "sensitivity": float(pred[pos].mean()) if pos.any() else None,
            "specificity": float((~pred[neg]).mean()) if neg.any() else None,
            "brier": float(np.mean((p - y) ** 2)), "ece": float(ece)}


def write_model(doc: dict[str, Any], models_dir: Path, training: dict[str, Any], metrics: dict[str, Any]) -> str:
    """Write ``screening.json`` and its manifest entry; the version string."""
    from classify.manifest import ModelEntry, sha256_file, write_entry

    path = models_dir / "screening.json"
    path.write_text(json.dumps({**doc, "fitted_on": training["data"], "metrics": metrics}, indent=1) + "\n")
    digest = sha256_file(path)
    version = f"screening-{date.today().isoformat()}-{digest[:8]}"
    write_entry(models_dir, ModelEntry(
        name="screening", file=path.name, sha256=digest, size_bytes=path.stat().st_size, version=version,
        inputs={"features": {"order": list(SCREENING_FEATURES), "builder": "classify.screening.screening_features"}},
        outputs={"abnormal_probability": {"range": [0, 1], "calibration": "platt"}},
        classes=["abnormal"], thresholds={"abnormal": doc["operating_point"]}, training=training, metrics=metrics,
        export={"format": "json", "evaluator": "classify.screening.ScreeningModel", "date": date.today().isoformat()},
    ))
    return version


def main(argv: list[str] | None = None) -> int:
    from classify.train.metrics import auroc
    from classify.train.screening_cache import read_cache

    parser = argparse.ArgumentParser(prog="python -m classify.train.screening", description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, action="append", required=True, help="cache .jsonl (repeatable)")
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--target-sensitivity", type=float, default=0.90)
    parser.add_argument("--C", type=float, default=None, help="fixed L2 strength (default: chosen by CV log-loss)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exclude-source", action="append", default=[], choices=list(SOURCES),
                        help="leave a source out (e.g. a model trained on the fitting images' patients)")
    parser.add_argument("--exclude-reason", default="", help="why, recorded in the file")
    args = parser.parse_args(argv)
    sources = tuple(s for s in SOURCES if s not in args.exclude_source)
    missing = [str(p) for p in args.cache if not p.exists()]
    if missing:
        parser.error(f"cache file(s) not found: {', '.join(missing)}")
    rows = usable(read_cache(args.cache))
    if len(rows) < 30:
        parser.error(f"only {len(rows)} usable cached images; need ≥ 30")
    X, y, p_wave, wave_model = design(rows, args.models_dir, sources)
    doc = fit(X, y, target=args.target_sensitivity, seed=args.seed, C=args.C)
    doc["sources"] = list(sources)
    if args.exclude_source:
        doc["excluded_sources"] = {s: args.exclude_reason or "excluded when fitting" for s in args.exclude_source}
    oof = doc.pop("_oof")
    metrics = {"split": "cross-validated on the fitting images", **figures(y, oof, doc["operating_point"]),
               "sources_auroc": {
                   "fusion": auroc(y, X[:, 0]),
                   "tiled": auroc(y, [1 - (r.get("tiled") or {}).get("NORM", 0.5) for r in rows]),
                   "waveform": auroc(y, p_wave[:, wave_model.classes.index("ABNORMAL")]),
                   "rules": auroc(y, X[:, 6])}}
    sets = sorted({r["set"] for r in rows})
    training = {"command": "python -m classify.train.screening " + shlex.join(sys.argv[1:] if argv is None else argv),
                "seed": args.seed, "data": {"sets": sets, "images": int(len(y)), "abnormal": int(y.sum()),
                                            "caches": [str(p) for p in args.cache]},
                "sources": {"waveform": wave_model.version,
                            "image_models": sorted({json.dumps(r.get("model_versions"), sort_keys=True)
                                                    for r in rows})}}
    version = write_model(doc, args.models_dir, training, metrics)
    model = ScreeningModel.load(args.models_dir)
    print(json.dumps({"version": version, "coefficients": dict(zip(SCREENING_FEATURES, model.coefficients,
                                                                   strict=True)),
                      "operating_point": model.operating_point, "metrics": metrics}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
