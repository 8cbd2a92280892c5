"""Benchmark the digitizer on images with known signals: challenge SNR, Pearson r and time, by kind.

Usage::

    python bench/digitize_eval.py IMAGES REFS [--method classical] [--kinds kit-dev] [--overlays DIR]

``IMAGES`` is a folder of images ``NAME.png/.jpg/...``; ``REFS`` a folder of reference records ``NAME.hea`` (or
any format ``ecg.io.read_record`` reads) with NaN outside each lead's plotted window. Kinds: ``--kinds kit-dev``
groups d001–d012 as clean, d013–d024 as scan, d025–d036 as photo; otherwise an ``index.csv`` with columns
``name,kind`` in IMAGES is used when present, else everything is one group. Printed per kind: mean and median
record SNR (dB; PhysioNet/CinC 2024 definition, see ``digitize.metrics``), median per-lead Pearson r, and the median
seconds per image (end to end, including reading the file).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from digitize.metrics import record_scores, record_snr  # noqa: E402
from digitize.pipeline import digitize_image  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import read_record  # noqa: E402
from ecg.record import LEADS  # noqa: E402

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".bmp", ".webp")
REF_SUFFIXES = (".hea", ".csv", ".edf", ".json")


def kit_dev_kind(name: str) -> str:
    """Kind of a kit-dev image from its number: d001–d012 clean, d013–d024 scan, d025–d036 photo."""
    try:
        number = int(name.lstrip("d"))
    except ValueError:
        return "other"
    return "clean" if number <= 12 else "scan" if number <= 24 else "photo" if number <= 36 else "other"


def find_pairs(images: Path, refs: Path) -> list[tuple[str, Path, Path]]:
    pairs = []
    for image in sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        ref = next((refs / (image.stem + s) for s in REF_SUFFIXES if (refs / (image.stem + s)).exists()), None)
        if ref is not None:
            pairs.append((image.stem, image, ref))
    return pairs


def kinds_for(pairs: list[tuple[str, Path, Path]], images: Path, mode: str) -> dict[str, str]:
    if mode == "kit-dev":
        return {name: kit_dev_kind(name) for name, _, _ in pairs}
    index = images / "index.csv"
    if index.exists():
        with index.open(newline="") as fh:
            table = {row["name"]: row.get("kind", "all") for row in csv.DictReader(fh)}
        return {name: table.get(name, "all") for name, _, _ in pairs}
    return {name: "all" for name, _, _ in pairs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("refs", type=Path)
    parser.add_argument("--method", default="classical")
    parser.add_argument("--kinds", default="auto", help="'kit-dev' or 'auto' (index.csv name,kind in IMAGES)")
    parser.add_argument("--overlays", type=Path, default=None, help="write overlay PNGs here")
    parser.add_argument("--highpass", type=float, default=0.5, help="high-pass cut-off in Hz (0 = none)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N images")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every record")
    args = parser.parse_args(argv)

    pairs = find_pairs(args.images, args.refs)
    if args.limit:
        pairs = pairs[: args.limit]
    if not pairs:
        print(f"no image with a matching reference in {args.images} / {args.refs}", file=sys.stderr)
        return 2
    kinds = kinds_for(pairs, args.images, "kit-dev" if args.kinds == "kit-dev" else "auto")
    snr_by_kind: dict[str, list[float]] = defaultdict(list)
    r_by_kind: dict[str, list[float]] = defaultdict(list)
    seconds_by_kind: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, list[str]] = defaultdict(list)
    for name, image, ref_path in pairs:
        kind = kinds[name]
        reference = read_record(ref_path, fs=500.0)
        start = time.perf_counter()
        try:
            result = digitize_image(image, method=args.method, highpass_hz=args.highpass or None)
        except EcgInputError as exc:
            failures[kind].append(f"{name}: {exc}")
            snr_by_kind[kind].append(0.0)
            continue
        seconds_by_kind[kind].append(time.perf_counter() - start)
        scores = record_scores(reference.signals, result.record.signals, 500.0, LEADS)
        snr = record_snr(scores)
        snr_by_kind[kind].append(snr)
        r_by_kind[kind].extend(s.pearson_r for s in scores.values() if np.isfinite(s.pearson_r))
        if args.overlays is not None:
            import cv2

            args.overlays.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.overlays / f"{name}_overlay.png"), result.overlay[:, :, ::-1])
        if args.verbose:
            worst = sorted(scores.items(), key=lambda kv: kv[1].snr_db)[:3]
            print(
                f"{name} {kind:6s} SNR {snr:6.2f} dB  {result.layout.template:6s} "
                f"px/mm {result.calibration.px_per_mm_x:.3f}/{result.calibration.px_per_mm_y:.3f} "
                f"gain {result.calibration.gain_mm_mv:g} t {seconds_by_kind[kind][-1]:.2f}s  worst "
                + ", ".join(f"{k} {v.snr_db:.1f}" for k, v in worst),
                flush=True,
            )
    print(f"digitize_eval: method={args.method} images={len(pairs)} highpass={args.highpass or 'none'}")
    print(f"{'kind':8s} {'n':>3s} {'mean SNR dB':>12s} {'median SNR dB':>14s} {'median lead r':>14s} "
          f"{'median s/img':>13s} {'failed':>7s}")
    order = ["clean", "scan", "photo"] + sorted(k for k in snr_by_kind if k not in ("clean", "scan", "photo"))
    for kind in [k for k in order if k in snr_by_kind]:
        snrs = np.array(snr_by_kind[kind])
        rs = np.array(r_by_kind[kind]) if r_by_kind[kind] else np.array([np.nan])
        secs = np.array(seconds_by_kind[kind]) if seconds_by_kind[kind] else np.array([np.nan])
        print(f"{kind:8s} {snrs.size:3d} {snrs.mean():12.2f} {np.median(snrs):14.2f} {np.median(rs):14.3f} "
              f"{np.median(secs):13.2f} {len(failures[kind]):7d}")
    for kind, items in failures.items():
        for item in items:
            print(f"failed ({kind}) {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
