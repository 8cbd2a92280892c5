"""The tiled classifier on held-out images after the digitizer: canonical input vs the raw-page tiles.

Usage::

    python bench/tiled_eval.py --set test=/work/foreign/test --set kitdev=../shared/data/kit-dev \\
        [--cache /work/cache/digitized] [--models-dir models] [--raw-models-dir OLD_MODELS] [--digitize-missing] \\
        [--json out.json]

Each ``--set NAME=FOLDER`` holds images and an ``index.csv`` (``image`` and ``scp_codes``, or ``ecg_id`` looked up
in ``../shared/data/ptbxl``). The canonical model reads the digitized record ``<cache>/<NAME>/<stem>.json`` (the
current digitizer's output; with ``--digitize-missing`` images without one are digitized here, else skipped and
counted). ``--raw-models-dir``: a models folder whose ``tiled.onnx`` cuts tiles from the page (the earlier model),
run on the same images. Prints per class F1 / AUROC / support at the shipped thresholds, macro-F1 over classes with
≥ 5 positives, per print kind, and the median wall and process-CPU seconds per image of the tiled classifier alone
(rendering + network for the canonical model; image decoding + tiling + network for the raw one; the digitizer,
which the pipeline runs anyway, is not counted).
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

from bench.digitize_cache import cache_one, code_version, default_digitizer  # noqa: E402
from classify.labels import TILED_CLASSES, tiled_labels, tiled_target  # noqa: E402
from classify.manifest import json_safe  # noqa: E402
from classify.runtime import Classifier  # noqa: E402
from classify.train.metrics import multilabel_report  # noqa: E402
from digitize.load import load_image  # noqa: E402
from ecg.io import read_record  # noqa: E402

PTBXL = (REPO / ".." / "shared" / "data" / "ptbxl").resolve()


def image_set(folder: Path) -> pd.DataFrame:
    """``image`` path, ``stem``, ``kind`` and ``tiled_labels`` per image of a folder with ``index.csv``."""
    index = pd.read_csv(folder / "index.csv")
    if "scp_codes" not in index:
        database = pd.read_csv(PTBXL / "ptbxl_database.csv", index_col="ecg_id")
        index["scp_codes"] = database.loc[index["ecg_id"], "scp_codes"].to_list()
    return pd.DataFrame(
        {
            "image": [str(folder / name) for name in index["image"]],
            "stem": [Path(name).stem for name in index["image"]],
            "kind": index["kind"] if "kind" in index else "",
            "tiled_labels": [tiled_labels(c) for c in index["scp_codes"]],
        }
    )


def digitized(cache: Path, row, digitize_missing: bool):
    """The cached digitized record of an image (digitized and cached now by ``bench/digitize_cache.py``'s writer
    when asked), or ``None``."""
    path = cache / f"{row.stem}.json"
    if not path.exists() and digitize_missing and not (cache / f"{row.stem}.error").exists():
        cache.mkdir(parents=True, exist_ok=True)
        cache_one(Path(row.image), cache, default_digitizer, code_version())
    return read_record(path) if path.exists() else None


def report(targets: np.ndarray, probs: np.ndarray, thresholds: dict, kinds: np.ndarray) -> dict:
    out = multilabel_report(targets, probs, TILED_CLASSES, thresholds)
    out["images"] = len(targets)
    out["per_kind_macro_f1"] = {}
    for kind in sorted(set(kinds)):
        mask = kinds == kind
        sub = multilabel_report(targets[mask], probs[mask], TILED_CLASSES, thresholds, min_support=3)
        out["per_kind_macro_f1"][str(kind)] = {"images": int(mask.sum()), "macro_f1": sub["macro_f1"]}
    return out


def evaluate(name: str, folder: Path, args, models: dict[str, Classifier]) -> dict:
    table = image_set(folder)
    cache = args.cache / name
    probs = {key: [] for key in models}
    seconds = {key: [] for key in models}
    cpu = {key: [] for key in models}
    rows, missing = [], 0
    for row in table.head(args.limit).itertuples() if args.limit else table.itertuples():
        record = digitized(cache, row, args.digitize_missing)
        if record is None:
            missing += 1
            continue
        rows.append(row)
        for key, classifier in models.items():
            t0, c0 = time.perf_counter(), time.process_time()
            if classifier.tiled_input == "canonical":
                result = classifier.classify_tiled(None, record)  # type: ignore[arg-type]
            else:
                result = classifier.classify_tiled(load_image(row.image))
            seconds[key].append(time.perf_counter() - t0)
            cpu[key].append(time.process_time() - c0)
            probs[key].append([result.probabilities[c] for c in TILED_CLASSES])
    targets = np.array([tiled_target(r.tiled_labels) for r in rows], dtype=np.float32).reshape(-1, len(TILED_CLASSES))
    kinds = np.array([r.kind for r in rows])
    out = {"images": len(rows), "skipped_without_record": missing}
    for key, classifier in models.items():
        p = np.array(probs[key], dtype=np.float32).reshape(-1, len(TILED_CLASSES))
        out[key] = report(targets, p, classifier.tiled_thresholds, kinds)
        out[key]["seconds_per_image_median"] = float(np.median(seconds[key])) if seconds[key] else None
        out[key]["cpu_seconds_per_image_median"] = float(np.median(cpu[key])) if cpu[key] else None
        out[key]["model_version"] = classifier.model_versions["tiled"]
    return out


def print_summary(name: str, result: dict) -> None:
    print(f"\n== {name}: {result['images']} images ({result['skipped_without_record']} without a digitized record)")
    for key in ("canonical", "raw"):
        if key not in result:
            continue
        r = result[key]
        print(
            f"-- {key} ({r['model_version']}): macro-F1 {r['macro_f1']:.3f} over {r['macro_f1_classes']} classes, "
            f"{r['seconds_per_image_median']:.3f} s/image wall, {r['cpu_seconds_per_image_median']:.3f} s CPU"
        )
        for c, v in r["per_class"].items():
            if v["support"]:
                f1 = "  n/a" if v["f1"] is None else f"{v['f1']:.3f}"
                auc = "  n/a" if v["auroc"] is None else f"{v['auroc']:.3f}"
                print(f"   {c:6s} support {v['support']:3d}  F1 {f1}  AUROC {auc}  sens {v['sensitivity']:.2f}")
        print(
            "   per kind macro-F1: "
            + ", ".join(f"{k} {v['macro_f1']:.2f} ({v['images']})" for k, v in r["per_kind_macro_f1"].items())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", required=True, help="NAME=FOLDER (repeatable)")
    parser.add_argument("--cache", type=Path, default=Path("/work/cache/digitized"))
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--raw-models-dir", type=Path, default=None)
    parser.add_argument("--digitize-missing", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0, help="first N images per set only")
    args = parser.parse_args()
    models = {"canonical": Classifier(args.models_dir, threads=args.threads)}
    if models["canonical"].tiled_input != "canonical":
        parser.error(f"{args.models_dir}/tiled.onnx is not a canonical-input model")
    if args.raw_models_dir:
        models["raw"] = Classifier(args.raw_models_dir, threads=args.threads)
    results = {}
    for spec in args.set:
        name, _, folder = spec.partition("=")
        results[name] = evaluate(name, Path(folder), args, models)
        print_summary(name, results[name])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(json_safe(results), indent=2) + "\n")


if __name__ == "__main__":
    main()
