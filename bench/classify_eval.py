"""Evaluate the shipped classifiers on held-out images: renders of PTB-XL test records and ECG-Image-Kit images.

Usage::

    python bench/classify_eval.py --manifest data/cls/manifest.csv [--kit-dev ../shared/data/kit-dev] \\
        [--models-dir models] [--limit 300] [--threads 2] [--preprocess none|rectify] [--json out.json]

Prints, per data set: fusion AUROC with a 95 % bootstrap CI and sensitivity/specificity at the shipped threshold;
tiled per-class sensitivity, specificity, F1, AUROC and support, macro-F1 over classes with support ≥ 5; the beat
detector's recall and precision at IoU 0.5 (renders only: they have true boxes); and the inference time per image
(median over the images, models loaded once, image decoding included).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classify.labels import TILED_CLASSES, fusion_label, load_diagnostic_classes, tiled_labels, tiled_target  # noqa: E402
from classify.manifest import json_safe  # noqa: E402
from classify.runtime import Classifier  # noqa: E402
from classify.train.data import read_beat_boxes, read_manifest  # noqa: E402
from classify.train.metrics import auroc, binary_report, bootstrap_ci, detection_report, multilabel_report  # noqa: E402

SHARED = (REPO / ".." / "shared" / "data").resolve()


def rendered_test_set(manifest_path: Path, limit: int) -> pd.DataFrame:
    """Test-split rows of a rendered data set: image, tiled labels, fusion label, beat-box file."""
    manifest = read_manifest(manifest_path)
    rows = manifest[manifest["split"] == "test"]
    return rows.head(limit) if limit else rows


def kit_dev_set(kit_dev: Path, ptbxl: Path) -> pd.DataFrame:
    """ECG-Image-Kit images with the labels of the PTB-XL records they plot."""
    index = pd.read_csv(kit_dev / "index.csv")
    db = pd.read_csv(ptbxl / "ptbxl_database.csv", index_col="ecg_id")
    classes = load_diagnostic_classes(ptbxl / "scp_statements.csv")
    codes = db.loc[index["ecg_id"], "scp_codes"].to_list()
    return pd.DataFrame(
        {
            "image": [str(kit_dev / name) for name in index["image"]],
            "kind": index["kind"],
            "ecg_id": index["ecg_id"],
            "tiled_labels": [tiled_labels(c) for c in codes],
            "fusion_label": [fusion_label(c, classes) for c in codes],
            "beats": "",
        }
    )


def evaluate(classifier: Classifier, rows: pd.DataFrame) -> dict:
    """Run the classifier over ``rows`` and compute every figure."""
    probs, fusion, seconds, detections = [], [], [], []
    for row in rows.itertuples():
        started = time.perf_counter()
        result = classifier.classify(row.image)
        seconds.append(time.perf_counter() - started)
        probs.append([result.tiled.probabilities[c] for c in TILED_CLASSES])
        fusion.append(result.fusion.abnormal_probability)
        if row.beats:
            detections.append(
                (np.array([b.box for b in result.fusion.beats]).reshape(-1, 4), read_beat_boxes(row.beats))
            )
    probs_array = np.array(probs)
    targets = np.array([tiled_target(labels) for labels in rows["tiled_labels"]])
    out: dict = {"images": len(rows), "records": int(rows["ecg_id"].nunique())}
    labelled = rows["fusion_label"].notna().to_numpy()
    y = rows["fusion_label"][labelled].astype(int).to_numpy()
    p = np.array(fusion)[labelled]
    low, high = bootstrap_ci(y, p)
    out["fusion"] = {
        "labelled_images": int(labelled.sum()),
        "abnormal": int(y.sum()),
        "auroc": auroc(y, p),
        "auroc_ci95": [low, high],
        "threshold": classifier.fusion_threshold,
        **binary_report(y, p >= classifier.fusion_threshold).as_dict(),
    }
    out["tiled"] = multilabel_report(targets, probs_array, TILED_CLASSES, classifier.tiled_thresholds)
    if detections:
        out["detector"] = detection_report(detections, iou=0.5)
    out["seconds_per_image"] = {"median": float(np.median(seconds)), "p90": float(np.quantile(seconds, 0.9))}
    return out


def print_report(name: str, report: dict) -> None:
    print(f"\n== {name}: {report['images']} images of {report['records']} records")
    f = report["fusion"]
    print(
        f"fusion AUROC {f['auroc']:.3f} (95% CI {f['auroc_ci95'][0]:.3f}–{f['auroc_ci95'][1]:.3f}); "
        f"{f['abnormal']}/{f['labelled_images']} abnormal; at threshold {f['threshold']:.3f}: "
        f"sensitivity {f['sensitivity']:.3f}, specificity {f['specificity']:.3f}"
    )
    print(f"{'class':6} {'support':>7} {'sens':>6} {'spec':>6} {'F1':>6} {'AUROC':>6} {'thr':>6}")
    for name_, c in report["tiled"]["per_class"].items():
        print(
            f"{name_:6} {c['support']:7d} {c['sensitivity']:6.3f} {c['specificity']:6.3f} {c['f1']:6.3f} "
            f"{c['auroc']:6.3f} {c['threshold']:6.3f}"
        )
    t = report["tiled"]
    print(
        f"tiled macro-F1 {t['macro_f1']:.3f} over {t['macro_f1_classes']} classes with support ≥ {t['min_support']}"
    )
    if "detector" in report:
        d = report["detector"]
        print(
            f"detector at IoU 0.5: recall {d['recall']:.3f}, precision {d['precision']:.3f} "
            f"({d['matched']} of {d['true_beats']} true beats, {d['detected']} detections)"
        )
    s = report["seconds_per_image"]
    print(f"time per image: median {s['median']:.3f} s, p90 {s['p90']:.3f} s")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, help="rendered data set whose test split is evaluated")
    parser.add_argument("--kit-dev", type=Path, default=SHARED / "kit-dev")
    parser.add_argument("--ptbxl", type=Path, default=SHARED / "ptbxl")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0, help="at most N rendered test images")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads")
    parser.add_argument(
        "--preprocess",
        choices=("none", "rectify"),
        default=None,
        help="override the preprocessing the models were trained with (raw vs rectified input)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    classifier = Classifier(args.models_dir, threads=args.threads, preprocess=args.preprocess)
    print(
        f"models: {classifier.model_versions}; providers {classifier.providers}; preprocess {classifier.preprocess}"
    )
    reports = {}
    if args.manifest:
        reports["ptbxl_renders_test"] = evaluate(classifier, rendered_test_set(args.manifest, args.limit))
    if args.kit_dev and (args.kit_dev / "index.csv").exists():
        reports["kit_dev"] = evaluate(classifier, kit_dev_set(args.kit_dev, args.ptbxl))
    for name, report in reports.items():
        print_report(name, report)
    if args.json:
        args.json.write_text(json.dumps(json_safe(reports), indent=2, allow_nan=False) + "\n")
    return reports


if __name__ == "__main__":
    main()
