"""Is the digitizer what limits the waveform classifier? Its ABNORMAL score on the digitized images against on the
true signals those images plot.

Usage::

    python bench/waveform_ceiling.py --set out/screening5/foreign-val.jsonl=/work/foreign/val \
        --set out/screening5/foreign-val2.jsonl=/work/foreign/val2

Each ``--set CACHE=FOLDER`` pairs a cache of :mod:`classify.train.screening_cache` (the features of the digitized
record) with the folder holding the references ``NAME.hea`` (the signal each image plots, NaN outside the printed
windows). The reference is measured and turned into features by the same code (:func:`analyze.measure`,
:func:`classify.features.record_features`) and scored by the shipped ``models/waveform.onnx``. Printed, pooled over
the sets, on images with an ABNORMAL label: AUROC and the specificity at sensitivity 0.90 for both inputs. Nothing is
fitted; use validation sets to decide, held-out sets only to report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyze import measure  # noqa: E402
from classify.agreement import auroc  # noqa: E402
from classify.features import record_features  # noqa: E402
from classify.train.screening import usable, waveform_probabilities  # noqa: E402
from classify.train.screening_cache import read_cache  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import read_record  # noqa: E402


def specificity_at(y: np.ndarray, score: np.ndarray, sensitivity: float = 0.90) -> float:
    """Specificity at the highest threshold whose sensitivity is still ≥ ``sensitivity``."""
    positives = np.sort(score[y == 1])
    threshold = positives[int(np.floor((1.0 - sensitivity) * positives.size + 1e-9))]  # 1 − 0.9 is 0.0999…
    return float((score[y == 0] < threshold).mean())


def true_signal_features(rows: list[dict], folders: list[Path]) -> list[list[float | None]]:
    """Feature rows of the reference signal of every cache row (``folders[i]`` holds row ``i``'s reference)."""
    out = []
    for row, folder in zip(rows, folders, strict=True):
        record = read_record(folder / f"{row['name']}.hea")
        try:
            m = measure(record)
        except EcgInputError:
            m = None
        out.append([None if not np.isfinite(v) else float(v) for v in record_features(record, m)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", required=True, metavar="CACHE=FOLDER")
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    rows: list[dict] = []
    folders: list[Path] = []
    for item in args.set:
        cache, sep, folder = item.partition("=")
        if not sep or not Path(cache).is_file() or not Path(folder).is_dir():
            parser.error(f"--set {item!r}: give an existing cache file and reference folder as CACHE=FOLDER")
        part = usable(read_cache([Path(cache)]))
        rows += part
        folders += [Path(folder)] * len(part)
    if not rows:
        parser.error("no image with an ABNORMAL label in the caches given")
    y = np.array([int(r["labels"]["ABNORMAL"]) for r in rows])
    digitized, model = waveform_probabilities(rows, args.models_dir)
    truth_rows = [{**r, "features": f} for r, f in zip(rows, true_signal_features(rows, folders), strict=True)]
    true_signal, _ = waveform_probabilities(truth_rows, args.models_dir)
    k = model.classes.index("ABNORMAL")
    print(f"{len(rows)} images, {int(y.sum())} abnormal; waveform classifier ABNORMAL")
    for name, p in (("digitized image", digitized[:, k]), ("true signal", true_signal[:, k])):
        print(f"  {name:<16} AUROC {auroc(y, p):.3f}  specificity at sensitivity 0.90: {specificity_at(y, p):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
