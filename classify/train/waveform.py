"""Train the waveform-feature classifier (:mod:`classify.waveform`) and ship it as ``models/waveform.onnx``.

Two steps, each re-runnable::

    python -m classify.train.waveform features --ptbxl ../shared/data/ptbxl --out out/waveform --variants 4
    python -m classify.train.waveform fit --features out/waveform --models-dir models
    python -m classify.train.waveform thresholds --cache out/screening/foreign-val.jsonl   # after the image cache

Rows from this project's digitizer on its own renders (:mod:`classify.train.digitized_rows`), and a comparison of
training sets on digitized validation images (:mod:`classify.train.waveform_compare`)::

    python -m classify.train.waveform features-digitized --ptbxl ../shared/data/ptbxl \
        --out out/wfdig/digitized.jsonl --splits train --time-budget-min 36        # appends; re-runs resume
    python -m classify.train.waveform compare --features out/waveform2 --extra-train out/waveform2s1 \
        --digitized out/wfdig/digitized.jsonl --weights 0 1 2 --cache out/screening/foreign-val.jsonl
    python -m classify.train.waveform fit --features out/waveform2 --extra-train out/waveform2s1 \
        --digitized out/wfdig/digitized.jsonl --models-dir models

``features``: true PTB-XL signals of the patient-wise train and val splits (:func:`classify.train.data.assign_splits`,
``method="patients"``, kit-dev records reserved for test), each degraded ``--variants`` times (val: 2) the way
printing and digitization degrade it (:mod:`classify.train.degrade`), measured by :func:`analyze.measure`, turned into
:func:`classify.features.record_features` rows (``train.npz``, ``val.npz``).

``fit``: one scikit-learn ``HistGradientBoostingClassifier`` per label (ABNORMAL = the fusion network's
normal/abnormal definition, :func:`classify.labels.fusion_label`; the cross-check's shared labels from
:func:`classify.labels.tiled_labels`), thresholds maximising F1 on the val split (first variant of each record,
so a record counts once), the validation gate's figures (AUROC, positives) in the manifest, and one ONNX graph
(:mod:`classify.train.waveform_onnx`) whose output equals the Python model's, NaN rows included (checked at export).

``thresholds``: the probabilities on digitized images run lower than on degraded signals (AFIB: best-F1 threshold
0.75 on val signals, F1 0.69 on foreign test images at it), so labels with ≥ 10 positives among the digitized
*validation* images get their threshold re-chosen there; the validation gate keeps the signal figures.

Why HistGradientBoosting: it is in scikit-learn (already a dependency of the training side), handles NaN natively
(a missing measurement is routed down the branch learned for it), and skl2onnx converts it to a standard
``TreeEnsembleClassifier`` that onnxruntime serves with the same NaN routing; LightGBM/XGBoost would add a native
library and a second converter (onnxmltools) for no accuracy we could measure on 1,049 training records.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from classify.features import FEATURE_NAMES, FEATURE_VERSION, feature_matrix, record_features
from classify.labels import fusion_label, load_diagnostic_classes, tiled_labels

WAVEFORM_LABELS: tuple[str, ...] = ("ABNORMAL", "AFIB", "AFLT", "PVC", "PAC", "CLBBB", "CRBBB", "WPW", "AT")
HGB_PARAMS = {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 20,
              "l2_regularization": 0.1, "early_stopping": False}


def record_labels(scp_codes: str, classes: dict[str, str]) -> np.ndarray:
    """Targets in :data:`WAVEFORM_LABELS` order (1/0; NaN for ABNORMAL without a diagnostic statement)."""
    abnormal = fusion_label(scp_codes, classes)
    present = set(tiled_labels(scp_codes))
    row = [np.nan if abnormal is None else float(abnormal)]
    row += [1.0 if label in present else 0.0 for label in WAVEFORM_LABELS[1:]]
    return np.array(row, dtype=np.float32)


def extract(
    ptbxl: Path, out: Path, variants: int, seed: int, limit: int | None = None,
    wanted: tuple[str, ...] = ("train", "val"),
) -> dict[str, int]:
    """Write ``train.npz`` and ``val.npz`` (X, y, ecg_id, variant, layout) under ``out``; rows per split."""
    import pandas as pd

    from analyze import measure
    from classify.train.data import assign_splits, kit_dev_ids, ptbxl_table
    from classify.train.degrade import degrade
    from ecg.errors import EcgInputError
    from ecg.io import read_record

    table = ptbxl_table(ptbxl)
    kit = ptbxl.parent / "kit-dev"
    splits = assign_splits(table, "patients", reserved_ids=kit_dev_ids(kit))
    db = pd.read_csv(ptbxl / "ptbxl_database.csv", index_col="ecg_id")
    classes = load_diagnostic_classes(ptbxl / "scp_statements.csv")
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split in wanted:
        ids = [int(i) for i in table.index[splits == split]][:limit]
        rows, labels, meta = [], [], []
        start = time.perf_counter()
        for n, ecg_id in enumerate(ids):
            record = read_record(table.loc[ecg_id, "record_path"], fs=500.0)
            target = record_labels(db.loc[ecg_id, "scp_codes"], classes)
            for v in range(variants if split == "train" else min(variants, 2)):
                rng = np.random.default_rng([seed, ecg_id, v])
                degraded = degrade(record, rng)
                try:
                    m = measure(degraded)
                except EcgInputError:
                    m = None
                rows.append(record_features(degraded, m))
                labels.append(target)
                meta.append((ecg_id, v, degraded.meta["degraded_layout"]))
            if n % 100 == 0:
                print(f"{split}: {n}/{len(ids)} records, {time.perf_counter() - start:.0f} s", flush=True)
        np.savez_compressed(
            out / f"{split}.npz", X=feature_matrix(rows), y=np.vstack(labels), ecg_id=np.array([m[0] for m in meta]),
            variant=np.array([m[1] for m in meta]), layout=np.array([m[2] for m in meta]),
            feature_names=np.array(FEATURE_NAMES), feature_version=FEATURE_VERSION,
        )
        counts[split] = len(rows)
    return counts


def fit_models(
    X: np.ndarray, y: np.ndarray, seed: int = 0, sample_weight: np.ndarray | None = None, **params: object
) -> list:
    """One fitted ``HistGradientBoostingClassifier`` per label (rows with a NaN target left out of that label);
    ``sample_weight`` per row (default 1), ``params`` override :data:`HGB_PARAMS`."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    models = []
    for k, label in enumerate(WAVEFORM_LABELS):
        keep = np.isfinite(y[:, k])
        if len(np.unique(y[keep, k])) < 2:
            raise ValueError(f"label {label} has a single class in the training data")
        model = HistGradientBoostingClassifier(**{**HGB_PARAMS, **params}, random_state=seed)
        weight = None if sample_weight is None else sample_weight[keep]
        models.append(model.fit(X[keep], y[keep, k].astype(int), sample_weight=weight))
    return models


def predict(models: list, X: np.ndarray) -> np.ndarray:
    """Probabilities ``(n, len(WAVEFORM_LABELS))`` of the Python models."""
    return np.column_stack([m.predict_proba(X)[:, 1] for m in models]).astype(np.float32)


def validation_figures(models: list, X: np.ndarray, y: np.ndarray) -> tuple[dict[str, float], dict[str, dict]]:
    """Thresholds (best F1) and per-label figures (AUROC, positives, sensitivity, specificity, F1) on val rows."""
    from classify.train.metrics import auroc, best_f1_threshold, binary_report

    p = predict(models, X)
    thresholds, per_class = {}, {}
    for k, label in enumerate(WAVEFORM_LABELS):
        keep = np.isfinite(y[:, k])
        truth, score = y[keep, k].astype(bool), p[keep, k]
        thresholds[label] = round(best_f1_threshold(truth, score), 6)
        report = binary_report(truth, score >= thresholds[label]).as_dict()
        per_class[label] = {"auroc": auroc(truth, score), "support": int(truth.sum()), "records": int(keep.sum()),
                            **{k2: report[k2] for k2 in ("sensitivity", "specificity", "f1")}}
    return thresholds, per_class


def training_rows(
    features: Path, extra_train: tuple[Path, ...] = (), digitized: tuple[Path, ...] = (), digitized_weight: float = 1.0
) -> dict[str, np.ndarray]:
    """Train rows: ``train.npz`` of ``features`` and ``extra_train`` (degraded true signals) plus the train-split
    rows of the ``digitized`` files (:mod:`classify.train.digitized_rows`, weight ``digitized_weight`` each);
    keys X, y, ecg_id, weight, digitized (bool per row)."""
    parts = [np.load(folder / "train.npz") for folder in (features, *extra_train)]
    for folder, part in zip((features, *extra_train), parts, strict=True):
        if str(part["feature_version"]) != FEATURE_VERSION:
            raise SystemExit(f"{folder}: features {part['feature_version']}, expected {FEATURE_VERSION}; re-extract")
    train = {key: np.concatenate([part[key] for part in parts]) for key in ("X", "y", "ecg_id")}
    train["weight"] = np.ones(len(train["X"]))
    train["digitized"] = np.zeros(len(train["X"]), dtype=bool)
    if digitized:
        from classify.train.digitized_rows import load_digitized

        rows = load_digitized(digitized, "train")
        n = len(rows["X"])
        train = {"X": np.concatenate([train["X"], rows["X"]]), "y": np.concatenate([train["y"], rows["y"]]),
                 "ecg_id": np.concatenate([train["ecg_id"], rows["ecg_id"]]),
                 "weight": np.concatenate([train["weight"], np.full(n, float(digitized_weight))]),
                 "digitized": np.concatenate([train["digitized"], np.ones(n, dtype=bool)])}
    return train


def fit(
    features: Path, models_dir: Path, seed: int, command: str, extra_train: tuple[Path, ...] = (),
    digitized: tuple[Path, ...] = (), digitized_weight: float = 1.0,
) -> dict:
    """Fit on ``train.npz`` (plus those of ``extra_train``: more degraded variants; plus the train rows of the
    ``digitized`` files, weighted ``digitized_weight``), validate on the first variant of ``val.npz`` (and report the
    digitized val rows), export ONNX and write the manifest."""
    from classify.train.waveform_onnx import export_waveform

    val = np.load(features / "val.npz")
    train = training_rows(features, extra_train, digitized, digitized_weight)
    weight = train["weight"] if train["digitized"].any() else None
    models = fit_models(train["X"], train["y"], seed, sample_weight=weight)
    first = val["variant"] == 0
    thresholds, per_class = validation_figures(models, val["X"][first], val["y"][first])
    degraded = ~train["digitized"]
    data = {
        "source": "PTB-XL true signals degraded by classify.train.degrade (print masks 3x4+1 / 6x2+1 / 12x1, "
                  "jitter, smoothing, noise, wander)"
                  + (" + this digitizer's records of DataSynth renders of train-split records "
                     "(classify.train.digitized_rows, foreign print mix)" if train["digitized"].any() else ""),
        "split_method": "patients", "train_rows": int(len(train["X"])), "val_rows": int(first.sum()),
        "train_records": int(len(np.unique(train["ecg_id"]))),
        "variants_per_record": round(int(degraded.sum()) / len(np.unique(train["ecg_id"][degraded])), 2),
    }
    metrics = {"split": "val", "per_class": per_class,
               "note": "val = one degraded variant per val-split record (true signals, not images)"}
    if train["digitized"].any():
        from classify.train.digitized_rows import load_digitized

        data.update({"digitized_files": [str(p) for p in digitized],
                     "digitized_train_rows": int(train["digitized"].sum()),
                     "digitized_weight": float(digitized_weight)})
        dval = load_digitized(digitized, "val")
        if len(dval["X"]):
            _, figures = validation_figures(models, dval["X"], dval["y"])
            metrics["val_digitized"] = {"per_class": figures, "rows": int(len(dval["X"])),
                                        "note": "this digitizer on DataSynth renders of val-split records (figures "
                                                "at each label's best-F1 threshold there; not used for thresholds)"}
    entry = export_waveform(models, predict, models_dir, thresholds=thresholds, metrics=metrics,
                            training={"command": command, "seed": seed, "data": data, "params": HGB_PARAMS},
                            check_rows=val["X"][first])
    return {"thresholds": thresholds, "per_class": per_class, "version": entry.version}


def image_thresholds(models_dir: Path, caches: list[Path], min_positives: int = 10) -> dict[str, dict]:
    """Re-choose thresholds (best F1) on digitized *validation images* for labels with ≥ ``min_positives`` there; the
    others keep the thresholds from degraded signals. Updates the manifest entry (the ONNX file is unchanged)."""
    from dataclasses import replace

    from classify.manifest import read_manifest, write_entry
    from classify.train.metrics import auroc, best_f1_threshold, binary_report
    from classify.train.screening import waveform_probabilities
    from classify.train.screening_cache import read_cache

    rows = [r for r in read_cache(caches) if "error" not in r]
    p, model = waveform_probabilities(rows, models_dir)
    entry = read_manifest(models_dir)["waveform"]
    thresholds, figures = dict(entry.thresholds), {}
    for k, label in enumerate(model.classes):
        truth = np.array([r["labels"].get(label) for r in rows], dtype=float)
        keep = np.isfinite(truth)
        y, score = truth[keep].astype(bool), p[keep, k]
        if y.sum() >= min_positives:
            thresholds[label] = round(best_f1_threshold(y, score), 6)
        report = binary_report(y, score >= thresholds[label]).as_dict() if y.any() else {}
        figures[label] = {"auroc": auroc(y, score), "support": int(y.sum()), "images": int(keep.sum()),
                          "threshold": thresholds[label], "from_images": bool(y.sum() >= min_positives),
                          **{key: report.get(key) for key in ("sensitivity", "specificity", "f1")}}
    metrics = {**entry.metrics, "val_images": {"caches": [str(c) for c in caches], "per_class": figures,
                                               "note": "thresholds re-chosen on these images where ≥ "
                                                       f"{min_positives} positives"}}
    write_entry(models_dir, replace(entry, thresholds=thresholds, metrics=metrics))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classify.train.waveform", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    f = sub.add_parser("features", help="degraded true signals → feature rows")
    f.add_argument("--ptbxl", type=Path, default=Path("../shared/data/ptbxl"))
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--variants", type=int, default=4)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--limit", type=int, default=None, help="records per split (smoke runs)")
    f.add_argument("--splits", nargs="+", default=["train", "val"], choices=["train", "val"])
    d = sub.add_parser("features-digitized", help="DataSynth renders → this digitizer → feature rows (JSON lines, "
                                                     "appended per record; re-runs resume)")
    d.add_argument("--ptbxl", type=Path, default=Path("../shared/data/ptbxl"))
    d.add_argument("--out", type=Path, required=True, help="JSON-lines file rows are appended to")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--variants", type=int, default=1, help="pages per record")
    d.add_argument("--limit", type=int, default=None, help="new records at most (smoke runs)")
    d.add_argument("--time-budget-min", type=float, default=None, help="stop starting new records after this")
    d.add_argument("--splits", nargs="+", default=["train", "val"], choices=["train", "val"])
    t = sub.add_parser("fit", help="feature rows → models/waveform.onnx + manifest entry")
    t.add_argument("--features", type=Path, required=True)
    t.add_argument("--models-dir", type=Path, default=Path("models"))
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--extra-train", type=Path, nargs="*", default=[], help="more train.npz folders (other seeds)")
    t.add_argument("--digitized", type=Path, nargs="*", default=[], help="features-digitized files (train rows used)")
    t.add_argument("--digitized-weight", type=float, default=1.0, help="sample weight of each digitized row")
    c = sub.add_parser("compare", help="fit candidate training sets in memory, score them on digitized validation "
                                         "images (screening cache); nothing is written")
    c.add_argument("--features", type=Path, required=True)
    c.add_argument("--extra-train", type=Path, nargs="*", default=[])
    c.add_argument("--digitized", type=Path, nargs="*", default=[])
    c.add_argument("--weights", type=float, nargs="+", default=[0.0, 1.0], help="digitized-row weights (0: without)")
    c.add_argument("--digitized-only", action="store_true", help="also a candidate trained on digitized rows only")
    c.add_argument("--cache", type=Path, action="append", required=True, help="VALIDATION images only")
    c.add_argument("--models-dir", type=Path, default=Path("models"), help="the shipped model, scored beside")
    c.add_argument("--seed", type=int, default=0)
    h = sub.add_parser("thresholds", help="re-choose thresholds on digitized validation images (screening cache)")
    h.add_argument("--cache", type=Path, action="append", required=True)
    h.add_argument("--models-dir", type=Path, default=Path("models"))
    h.add_argument("--min-positives", type=int, default=10)
    args = parser.parse_args(argv)
    if args.step == "compare":
        from classify.train.waveform_compare import compare

        results = compare(args.features, tuple(args.extra_train), tuple(args.digitized), args.weights, args.cache,
                          args.models_dir, args.seed, args.digitized_only)
        print(json.dumps(results, indent=1, default=float))
        return 0
    if args.step == "thresholds":
        figures = image_thresholds(args.models_dir, args.cache, args.min_positives)
        print(json.dumps(figures, indent=1, default=float))
        return 0
    if args.step == "features-digitized":
        from classify.train.digitized_rows import extract_digitized

        if not (args.ptbxl / "ptbxl_database.csv").exists():
            parser.error(f"{args.ptbxl}: no ptbxl_database.csv (give --ptbxl)")
        counts = extract_digitized(args.ptbxl, args.out, seed=args.seed, variants=args.variants, limit=args.limit,
                                   time_budget_min=args.time_budget_min, splits=tuple(args.splits))
        print(json.dumps(counts))
        return 0
    if args.step == "features":
        if not (args.ptbxl / "ptbxl_database.csv").exists():
            parser.error(f"{args.ptbxl}: no ptbxl_database.csv (give --ptbxl)")
        print(json.dumps(extract(args.ptbxl, args.out, args.variants, args.seed, args.limit, tuple(args.splits))))
        return 0
    command = "python -m classify.train.waveform " + shlex.join(sys.argv[1:] if argv is None else argv)
    result = fit(args.features, args.models_dir, args.seed, command, tuple(args.extra_train), tuple(args.digitized),
                 args.digitized_weight)
    print(json.dumps(result, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
