"""Compare waveform-classifier training sets on digitized *validation* images (the foreign-val screening cache).

Each candidate is fitted in memory (no ONNX, no manifest) and scored on the cached waveform features of the images
(:mod:`classify.train.screening_cache`); the shipped model (``--models-dir``) is scored beside them. Only validation
images may be given: this is where the training set is chosen, so a held-out set passed here stops being held out.

    python -m classify.train.waveform compare --features out/waveform2 --extra-train out/waveform2s1 \\
        --digitized out/wfdig/digitized.jsonl --weights 0 1 2 --cache out/screening/foreign-val.jsonl
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

REPORTED = ("ABNORMAL", "AFIB", "PVC", "CLBBB", "CRBBB")


def image_rows(caches: list[Path]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Features ``(n, len(FEATURE_NAMES))`` and labels (float, NaN unknown) of the usable rows of screening caches."""
    from classify.features import FEATURE_VERSION
    from classify.train.screening_cache import read_cache

    rows = [r for r in read_cache(caches) if "error" not in r]
    for r in rows:
        if r.get("feature_version") != FEATURE_VERSION:
            raise SystemExit(f"cache row {r['name']} has features {r.get('feature_version')}; rebuild the cache")
    X = np.array([[np.nan if v is None else v for v in r["features"]] for r in rows], dtype=np.float32)
    labels = {k: np.array([np.nan if r["labels"].get(k) is None else r["labels"][k] for r in rows], dtype=float)
              for k in REPORTED}
    return X, labels


def score(p: np.ndarray, classes: tuple[str, ...] | list[str], labels: dict[str, np.ndarray],
          thresholds: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Per reported label: AUROC, positives, F1 at ``thresholds`` and the best F1 on these images (optimistic: the
    threshold is chosen on the same images, as ``waveform thresholds`` does)."""
    from classify.train.metrics import auroc, best_f1_threshold, binary_report

    out = {}
    for label in REPORTED:
        keep = np.isfinite(labels[label])
        y, s = labels[label][keep].astype(bool), p[keep, list(classes).index(label)]
        best = best_f1_threshold(y, s)
        out[label] = {"auroc": round(auroc(y, s), 4), "positives": int(y.sum()), "images": int(keep.sum()),
                      "f1": round(binary_report(y, s >= thresholds[label]).f1, 3),
                      "best_f1": round(binary_report(y, s >= best).f1, 3)}
    return out


def compare(
    features: Path, extra_train: tuple[Path, ...], digitized: tuple[Path, ...], weights: list[float],
    caches: list[Path], models_dir: Path | None, seed: int = 0, digitized_only: bool = False,
) -> dict[str, dict[str, Any]]:
    """Figures on the images of ``caches`` per candidate: ``shipped`` (the model in ``models_dir``), ``w=<weight>``
    (degraded rows + digitized train rows at that weight; 0 = without them) and, optionally, ``digitized only``."""
    from classify.train.waveform import WAVEFORM_LABELS, fit_models, predict, training_rows, validation_figures

    X, labels = image_rows(caches)
    results: dict[str, dict[str, Any]] = {}
    if models_dir is not None and (models_dir / "waveform.onnx").exists():
        from classify.waveform import WaveformClassifier

        shipped = WaveformClassifier(models_dir)
        results["shipped"] = score(shipped.probabilities(X), shipped.classes, labels, dict(shipped.thresholds))
    val = np.load(features / "val.npz")
    first = val["variant"] == 0
    candidates: list[tuple[str, float, bool]] = [(f"w={w:g}", w, False) for w in weights]
    if digitized_only:
        candidates.append(("digitized only", 1.0, True))
    for name, w, only in candidates:
        train = training_rows(features, extra_train, digitized if (w > 0 or only) else (), w or 1.0)
        keep = train["digitized"] if only else np.ones(len(train["X"]), dtype=bool)
        weight = train["weight"][keep] if train["digitized"].any() else None
        models = fit_models(train["X"][keep], train["y"][keep], seed, sample_weight=weight)
        thresholds, _ = validation_figures(models, val["X"][first], val["y"][first])
        results[name] = {**score(predict(models, X), WAVEFORM_LABELS, labels, thresholds),
                         "train_rows": int(keep.sum()), "digitized_rows": int(train["digitized"][keep].sum())}
        print(name, results[name], flush=True)
    return results


__all__ = ["REPORTED", "compare", "image_rows", "score"]
