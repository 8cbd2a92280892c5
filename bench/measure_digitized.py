"""How far measurements on a digitized image are from the same measurements on the signal that image plots.

Usage::

    python bench/measure_digitized.py IMAGES REFS [--limit N] [--json OUT] [--cache DIR]

``IMAGES`` holds images with reference records in ``REFS`` (as for ``bench/digitize_eval.py``: ``NAME.hea`` etc.,
NaN outside each lead's plotted window). Each image is digitized and measured (``analyze.measure``); the reference
is measured by the same code on the same leads and windows. Printed per measurement (PR, QRS, QT, QTc Fridericia,
QRS axis, heart rate): n, median and p90 of |digitized − reference|, and the same split by the digitized
measurement's confidence (< 0.8 / ≥ 0.8), so that one sees whether a large difference comes with a low confidence.
A third line restricts each measurement to the records whose *reference* measurement is sure (confidence ≥ 0.8):
where the analysis cannot place a T end on the true signal either, a difference says nothing about the digitizer.
Images the digitizer refuses and measurements missing on either side are counted, not scored. ``--cache DIR`` reads
the digitized records from a cache written by ``bench/digitize_cache.py`` (``NAME.json``, or ``NAME.error`` for a
refusal) instead of digitizing again. ``--read-back`` measures the digitized record the way the report does
(:func:`analyze.read_back.measure_read_back`: leads the digitizer is unsure of left out, confidences capped by the
read-back evidence) instead of with plain ``analyze.measure``; the reference is always measured plainly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analyze import measure  # noqa: E402
from analyze.read_back import measure_read_back  # noqa: E402
from bench.digitize_cache import read_cached  # noqa: E402
from bench.digitize_eval import find_pairs  # noqa: E402
from digitize.pipeline import digitize_image  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import read_record  # noqa: E402
from ecg.record import EcgRecord  # noqa: E402

FIELDS = {
    "pr_ms": "PR (ms)",
    "qrs_ms": "QRS (ms)",
    "qt_ms": "QT (ms)",
    "qtc_fridericia_ms": "QTc Fridericia (ms)",
    "qrs_axis_deg": "QRS axis (°)",
    "heart_rate_bpm": "heart rate (bpm)",
}
SURE = 0.8
GROSS = {"pr_ms": 40.0, "qrs_ms": 40.0, "qt_ms": 60.0, "qtc_fridericia_ms": 60.0, "qrs_axis_deg": 45.0,
         "heart_rate_bpm": 10.0}
"""|Δ| beyond which a measurement stated at confidence ≥ :data:`SURE` counts as confidently wrong."""


def difference(field: str, a: float, b: float) -> float:
    """|a − b|; for an axis the smaller way round the circle (degrees)."""
    d = abs(a - b)
    return min(d, 360.0 - d) if field.endswith("_deg") else d


def digitized_record(name: str, image: Path, cache: Path | None) -> tuple[EcgRecord, dict[str, float], float]:
    """The digitized record of an image with its lead confidences and quality: from the cache when given, else
    digitized now."""
    if cache is None:
        result = digitize_image(image)
        return result.record, dict(result.lead_confidence), float(result.quality)
    cached = read_cached(cache, name)
    if cached is None:
        raise FileNotFoundError(f"{name}: not in the digitized cache {cache}")
    record, meta = cached
    return record, dict(meta["lead_confidence"]), float(meta["quality"])


def compare(
    images: Path, refs: Path, limit: int | None, cache: Path | None = None, read_back: bool = False
) -> dict:
    rows: list[dict] = []
    refused = failed = 0
    for name, image, ref_path in find_pairs(images, refs)[:limit]:
        try:
            record, lead_confidence, quality = digitized_record(name, image, cache)
            digitized = measure_read_back(record, lead_confidence, quality)[0] if read_back else measure(record)
        except EcgInputError:
            refused += 1
            continue
        try:
            reference = measure(read_record(ref_path, fs=500.0))
        except EcgInputError:
            failed += 1
            continue
        row = {"name": name}
        for field in FIELDS:
            a, b = getattr(digitized, field), getattr(reference, field)
            if a is not None and b is not None and np.isfinite(a) and np.isfinite(b):
                row[field] = difference(field, float(a), float(b))
                row[field + "_confidence"] = float(digitized.confidence.get(field, 1.0))
                row[field + "_reference_confidence"] = float(reference.confidence.get(field, 1.0))
        rows.append(row)
    return {"rows": rows, "refused": refused, "reference_failed": failed}


def summary(
    rows: list[dict], field: str, band: tuple[float, float] | None = None, *, sure_reference: bool = False
) -> str:
    values = [
        r[field] for r in rows
        if field in r
        and (band is None or band[0] <= r[field + "_confidence"] < band[1])
        and (not sure_reference or r[field + "_reference_confidence"] >= SURE)
    ]
    if not values:
        return "n 0"
    v = np.asarray(values)
    return f"n {v.size:3d}  median {np.median(v):6.1f}  p90 {np.percentile(v, 90):6.1f}  max {v.max():6.1f}"


def confidently_wrong(rows: list[dict], field: str, limit: float) -> list[str]:
    """Images whose ``field`` is off by more than ``limit`` at confidence ≥ :data:`SURE` while the reference
    measurement is sure."""
    return [r["name"] for r in rows if field in r and r[field] > limit and r[field + "_confidence"] >= SURE
            and r[field + "_reference_confidence"] >= SURE]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("refs", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write every image's differences here")
    parser.add_argument("--cache", type=Path, default=None, help="digitized cache (bench/digitize_cache.py)")
    parser.add_argument("--read-back", action="store_true",
                        help="measure the digitized record as the report does (analyze.read_back)")
    args = parser.parse_args(argv)
    for label, folder in (("images", args.images), ("references", args.refs), ("cache", args.cache)):
        if folder is not None and not folder.is_dir():
            print(f"{label} folder not found: {folder}", file=sys.stderr)
            return 2
    if not find_pairs(args.images, args.refs):
        print(f"no image in {args.images} has a reference (NAME.hea, .csv, .edf, .json) in {args.refs}",
              file=sys.stderr)
        return 2
    try:
        result = compare(args.images, args.refs, args.limit, args.cache, args.read_back)
    except FileNotFoundError as exc:  # an image not in the cache: run bench/digitize_cache.py on the folder first
        print(f"{exc} (run bench/digitize_cache.py IMAGES CACHE first)", file=sys.stderr)
        return 2
    rows = result["rows"]
    print(f"{len(rows)} images measured; {result['refused']} refused by the digitizer; "
          f"{result['reference_failed']} references not measurable")
    for field, label in FIELDS.items():
        print(f"|Δ {label}|: all: {summary(rows, field)}")
        print(f"    confidence < {SURE}: {summary(rows, field, (0.0, SURE))};  ≥ {SURE}: "
              f"{summary(rows, field, (SURE, 1.01))}")
        print(f"    reference sure (≥ {SURE}): {summary(rows, field, sure_reference=True)};  and digitized sure: "
              f"{summary(rows, field, (SURE, 1.01), sure_reference=True)}")
    print(f"confidently wrong (|Δ| > limit at confidence ≥ {SURE}; where the reference is sure):")
    for field, limit in GROSS.items():
        wrong = confidently_wrong(rows, field, limit)
        print(f"    {FIELDS[field]:<20} > {limit:g}: {len(wrong)}" + (f"  ({', '.join(wrong)})" if wrong else ""))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
