"""The fusion network's heartbeat detector on foreign images: recall and precision against the beats the generator drew.

Usage::

    python bench/detector_eval.py /work/foreign/test [--kit-json DIR] [--limit N] [--json out.json]

The folder holds ECG-Image-Kit renders with ``index.csv`` (``name``, ``image``, ``kind``, ``augmented``), each
image's reference ``NAME.hea/.dat`` (the plotted signal, NaN outside the plotted windows) and the kit's stored
configuration ``NAME.json`` (``--store_config 2``; or in ``--kit-json``), whose ``leads[*]`` give every panel's
``start_sample``/``end_sample`` and the pixel ``[row, col]`` of each plotted sample (``plotted_pixels``).

True beats are defined as in training (``synth/beats.py`` + ``synth/truth.py``): R peaks by NeuroKit2 on the best
fully plotted lead (the rhythm strip), a beat spans midway to the previous R peak to midway to the next, and every
beat lying wholly inside a panel's window is one box: the bounding box of that panel's plotted pixels over the
beat, padded by 2 px (half a trace at 200 dpi). Detections are the serving detector's boxes above its operating
threshold (``classify.runtime.Classifier.detect_beats``), matched one-to-one at IoU ≥ 0.5 (the training
validation's rule, ``classify.train.metrics.detection_report``) and, more leniently, at IoU ≥ 0.3.

Only pages the kit did not augment are scored: on ``--augment`` pages the kit rotates, crops and adds noise after
plotting and does not move ``plotted_pixels`` with them (it does so only with ``--lead_bbox``), so their truth
boxes are unknown. Prints recall and precision overall and per print kind.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classify.runtime import Classifier  # noqa: E402
from classify.train.metrics import detection_report  # noqa: E402
from digitize.load import load_image  # noqa: E402
from ecg.formats.wfdb import read_wfdb  # noqa: E402
from synth.beats import beat_windows, detect_r_peaks  # noqa: E402

PAD_PX = 2.0
IOUS = (0.5, 0.3)


def kit_config(name: str, folder: Path, kit_json: Path | None) -> dict | None:
    """The kit's stored configuration of an image (``NAME.json`` in ``kit_json`` or beside the image)."""
    for base in (kit_json, folder):
        if base is None:
            continue
        for path in (base / f"{name}.json", *sorted(base.glob(f"{name}-*.json"))):
            if path.exists():
                return json.loads(path.read_text())
    return None


def page_offset(config: dict, image_shape: tuple[int, ...]) -> tuple[float, float]:
    """``(dx, dy)`` px added to ``plotted_pixels``: the kit pads the page (``--pad_inches``) after plotting."""
    height, width = image_shape[:2]
    plotted_w = float(config.get("width", width))
    plotted_h = float(config.get("height", height))
    return (width - plotted_w) / 2.0, (height - plotted_h) / 2.0


def truth_boxes(config: dict, reference_path: Path, image_shape: tuple[int, ...]) -> np.ndarray:
    """``(N, 4)`` true beat boxes ``(x0, y0, x1, y1)`` in image px (see module docstring)."""
    record = read_wfdb(reference_path)
    _, peaks = detect_r_peaks(record)
    beats = beat_windows(peaks, record.fs)
    dx, dy = page_offset(config, image_shape)
    boxes = []
    for lead in config.get("leads", []):
        pixels = np.asarray(lead.get("plotted_pixels") or [], dtype=np.float64).reshape(-1, 2)
        start, stop = int(lead["start_sample"]), int(lead["end_sample"])
        if len(pixels) != stop - start:
            continue
        for beat in beats:
            a = int(round(beat.start_s * record.fs))
            b = int(round(beat.stop_s * record.fs))
            if a < start or b > stop or b <= a:
                continue
            rows, cols = pixels[a - start : b - start, 0] + dy, pixels[a - start : b - start, 1] + dx
            boxes.append((cols.min() - PAD_PX, rows.min() - PAD_PX, cols.max() + PAD_PX, rows.max() + PAD_PX))
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def evaluate(folder: Path, kit_json: Path | None, limit: int, classifier: Classifier) -> dict:
    """Per-image (kind, detected boxes, truth boxes) and the summary per IoU, overall and per kind."""
    index = pd.read_csv(folder / "index.csv")
    if "augmented" in index:
        skipped_augmented = int(index["augmented"].astype(bool).sum())
        index = index[~index["augmented"].astype(bool)]
    else:
        skipped_augmented = 0
    if limit:
        index = index.head(limit)
    per_image, missing = [], []
    for row in index.itertuples():
        name = str(row.name)
        config = kit_config(name, folder, kit_json)
        if config is None or not (folder / f"{name}.hea").exists():
            missing.append(name)
            continue
        image = load_image(folder / str(row.image))
        truth = truth_boxes(config, folder / f"{name}.hea", image.shape)
        detected = np.asarray([b.box for b in classifier.detect_beats(image)], dtype=np.float64).reshape(-1, 4)
        per_image.append({"name": name, "kind": str(row.kind), "detected": detected, "truth": truth})
    summary: dict = {"images": len(per_image), "skipped_augmented": skipped_augmented, "missing": missing}
    for iou in IOUS:
        key = f"iou_{iou}"
        summary[key] = detection_report([(r["detected"], r["truth"]) for r in per_image], iou=iou)
        summary[key]["per_kind"] = {
            kind: detection_report([(r["detected"], r["truth"]) for r in per_image if r["kind"] == kind], iou=iou)
            for kind in sorted({r["kind"] for r in per_image})
        }
    beats_per_image = [len(r["truth"]) for r in per_image]
    summary["true_beats_per_image_median"] = float(np.median(beats_per_image)) if beats_per_image else None
    summary["detected_per_image_median"] = (
        float(np.median([len(r["detected"]) for r in per_image])) if per_image else None
    )
    return summary


def print_summary(summary: dict) -> None:
    print(
        f"{summary['images']} images scored ({summary['skipped_augmented']} augmented pages skipped, "
        f"{len(summary['missing'])} without kit configuration); median true beats per image "
        f"{summary['true_beats_per_image_median']}, detections {summary['detected_per_image_median']}"
    )
    for iou in IOUS:
        s = summary[f"iou_{iou}"]
        print(
            f"IoU ≥ {iou}: recall {s['recall']:.3f} ({s['matched']}/{s['true_beats']}), "
            f"precision {s['precision']:.3f} ({s['matched']}/{s['detected']})"
        )
        for kind, k in s["per_kind"].items():
            print(f"   {kind:14s} {k['images']:3d} images  recall {k['recall']:.3f}  precision {k['precision']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--kit-json", type=Path, default=None, help="folder of the kit's NAME.json (default: beside)")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    args = parser.parse_args(argv)
    classifier = Classifier(models_dir=args.models_dir) if args.models_dir else Classifier()
    summary = evaluate(args.folder, args.kit_json, args.limit, classifier)
    print_summary(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
