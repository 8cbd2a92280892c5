"""Benchmark the digitizer on images with known signals: challenge SNR, Pearson r and time, by kind.

Usage::

    python bench/digitize_eval.py IMAGES REFS [--method classical,unet] [--kinds kit-dev|synth] [--overlays DIR]
    python bench/digitize_eval.py IMAGES REFS --cached DIR      # score what bench/digitize_cache.py wrote

``IMAGES`` is a folder of images ``NAME.png/.jpg/...``; ``REFS`` a folder of reference records ``NAME.hea`` (or
any format ``ecg.io.read_record`` reads) with NaN outside each lead's plotted window. Kinds: ``--kinds kit-dev``
groups d001–d012 as clean, d013–d024 as scan, d025–d036 as photo; otherwise an ``index.csv`` with columns
``name,kind`` in IMAGES is used when present, else everything is one group; ``--kinds synth`` (an index written by
``bench/make_synth_eval.py``, kinds ``LAYOUT/LEVEL``) also groups by layout, by distortion level and by paper, and
reports how often the layout template was recognised. Printed per kind and method: mean and median record SNR (dB;
PhysioNet/CinC 2024 definition, see ``digitize.metrics``), median per-lead Pearson r, the median seconds per image
(end to end, including reading the file), the median time shift the score applied (ms; the time-origin error) and
the failures; then the confidently-wrong images (mean SNR < 3 dB, quality ≥ 0.5) and leads (SNR < 0 dB,
confidence ≥ 0.5) and a quality / confidence by SNR table (issue 15).
Several methods (``--method classical,unet``) are run on the same images and printed side by side.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
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
REF_SUFFIXES = ("_signals.csv", ".hea", ".csv", ".edf", ".json")
"""Reference file endings tried in order (DataSynth writes NAME_signals.csv next to its NAME.json truth)."""


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


def read_index(images: Path) -> dict[str, dict[str, str]]:
    """Rows of ``IMAGES/index.csv`` by name (empty when there is none)."""
    index = images / "index.csv"
    if not index.exists():
        return {}
    with index.open(newline="") as fh:
        return {row["name"]: row for row in csv.DictReader(fh) if row.get("name")}


def groups_for(name: str, mode: str, index: dict[str, dict[str, str]]) -> list[str]:
    """The groups an image is reported in."""
    if mode == "kit-dev":
        return [kit_dev_kind(name)]
    row = index.get(name)
    if row is None:
        return ["all"]
    groups = [row.get("kind", "all")]
    if mode == "synth":
        groups += [f"layout {row['layout']}", f"level {row['level']}"]
        if row.get("paper") in ("bw", "none"):
            groups.append(f"paper {row['paper']}")
        if row.get("layout") != "3x4+1" or row.get("paper") in ("bw", "none"):
            groups.append("other layouts/papers")
        groups.append("all")
    return groups


@dataclass
class Outcome:
    """One image digitized by one method."""

    snr: float
    rs: list[float] = field(default_factory=list)
    seconds: float = float("nan")
    shifts_ms: list[float] = field(default_factory=list)
    template: str = ""
    error: str = ""
    quality: float = 0.0
    lead_snr: dict[str, float] = field(default_factory=dict)
    lead_confidence: dict[str, float] = field(default_factory=dict)
    lead_reasons: dict[str, str] = field(default_factory=dict)
    lead_evidence: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def run_method(method: str, pairs, args) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for name, image, ref_path in pairs:
        reference = read_record(ref_path, fs=500.0)
        start = time.perf_counter()
        try:
            result = digitize_image(
                image, method=method, highpass_hz=args.highpass or None, smooth=not args.no_smooth
            )
        except EcgInputError as exc:
            outcomes[name] = Outcome(0.0, error=str(exc))
            continue
        seconds = time.perf_counter() - start
        outcome, scores = scored(
            reference, result.record, seconds, result.layout.template, result.quality, result.lead_confidence,
            {k: str(v) for k, v in getattr(result, "lead_reasons", {}).items()},
            lead_evidence={k: v.as_dict() for k, v in getattr(result, "lead_evidence", {}).items()},
            notes=list(result.quality_notes),
        )
        outcomes[name] = outcome
        if args.save is not None:  # after every image: a long run killed half-way keeps what it did
            import json

            args.save.write_text(json.dumps({method: {n: o.__dict__ for n, o in outcomes.items()}}))
        if args.overlays is not None:
            import cv2

            args.overlays.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.overlays / f"{name}_{method}_overlay.png"), result.overlay[:, :, ::-1])
        if args.verbose:
            worst = sorted(scores.items(), key=lambda kv: kv[1].snr_db)[:3]
            print(
                f"{method:9s} {name} SNR {outcome.snr:6.2f} dB  {result.layout.template:6s} "
                f"px/mm {result.calibration.px_per_mm_x:.3f}/{result.calibration.px_per_mm_y:.3f} "
                f"gain {result.calibration.gain_mm_mv:g} t {seconds:.2f}s  worst "
                + ", ".join(f"{k} {v.snr_db:.1f}" for k, v in worst),
                flush=True,
            )
    return outcomes


def scored(
    reference, record, seconds: float, template: str, quality: float, lead_confidence, lead_reasons, **extra
) -> tuple[Outcome, dict]:
    """One digitization scored against its reference: the :class:`Outcome` and the per-lead scores."""
    scores = record_scores(reference.signals, record.signals, 500.0, LEADS)
    outcome = Outcome(
        record_snr(scores),
        [s.pearson_r for s in scores.values() if np.isfinite(s.pearson_r)],
        seconds,
        [1000.0 * s.shift_s for s in scores.values() if s.coverage > 0],
        template,
        quality=float(quality),
        lead_snr={k: float(v.snr_db) for k, v in scores.items() if v.coverage > 0},
        lead_confidence={k: float(v) for k, v in lead_confidence.items()},
        lead_reasons=dict(lead_reasons),
        **extra,
    )
    return outcome, scores


def cached_outcomes(pairs, cache: Path) -> dict[str, Outcome]:
    """Outcomes of the digitizations ``bench/digitize_cache.py`` stored in ``cache`` (``NAME.json`` +
    ``NAME.meta.json``, or ``NAME.error``), scored like :func:`run_method`; images not in the cache are left out."""
    from bench.digitize_cache import read_cached

    outcomes: dict[str, Outcome] = {}
    for name, _, ref_path in pairs:
        try:
            cached = read_cached(cache, name)
        except EcgInputError as exc:
            outcomes[name] = Outcome(0.0, error=str(exc))
            continue
        if cached is None:
            continue
        record, meta = cached
        reasons = {k: "; ".join(v) if isinstance(v, list) else str(v)
                   for k, v in (meta.get("lead_reasons") or {}).items()}
        outcomes[name], _ = scored(
            read_record(ref_path, fs=500.0), record, float(meta.get("seconds", float("nan"))),
            str(meta.get("layout", "")), meta.get("quality", 0.0), meta.get("lead_confidence") or {}, reasons,
        )
    return outcomes


def print_table(method: str, outcomes: dict[str, Outcome], groups: dict[str, list[str]], index) -> None:
    by_group: dict[str, list[str]] = defaultdict(list)
    for name, names_groups in groups.items():
        if name in outcomes:
            for g in names_groups:
                by_group[g].append(name)
    print(f"{'method':9s} {'kind':22s} {'n':>3s} {'mean SNR':>9s} {'median SNR':>11s} {'median r':>9s} "
          f"{'s/img':>6s} {'shift ms':>9s} {'failed':>6s}" + (f" {'layout ok':>9s}" if index else ""))
    fixed = ["clean", "scan", "photo"]
    order = [g for g in fixed if g in by_group] + sorted(g for g in by_group if g not in fixed)
    for group in order:
        items = [outcomes[n] for n in by_group[group]]
        snrs = np.array([o.snr for o in items])
        rs = [r for o in items for r in o.rs]
        secs = [o.seconds for o in items if not o.error]
        shifts = [v for o in items for v in o.shifts_ms]
        line = (
            f"{method:9s} {group:22s} {len(items):3d} {snrs.mean():9.2f} {np.median(snrs):11.2f} "
            f"{np.median(rs) if rs else float('nan'):9.3f} {np.median(secs) if secs else float('nan'):6.2f} "
            f"{np.median(shifts) if shifts else float('nan'):9.0f} {sum(bool(o.error) for o in items):6d}"
        )
        if index:
            ok = [outcomes[n].template == index[n].get("layout") for n in by_group[group] if n in index]
            line += f" {np.mean(ok) if ok else float('nan'):9.2f}"
        print(line)


CONFIDENT = 0.5
"""Quality / lead confidence from which a result counts as claimed (issue 15)."""

WRONG_IMAGE_DB, WRONG_LEAD_DB = 3.0, 0.0
"""Mean SNR below which an image, and SNR below which a lead, counts as wrong (issue 15)."""


def print_confidence(method: str, outcomes: dict[str, Outcome]) -> None:
    """Confidently-wrong counts and quality / confidence against SNR (refusals count as honest)."""
    done = {n: o for n, o in outcomes.items() if not o.error}
    wrong_images = [n for n, o in done.items() if o.snr < WRONG_IMAGE_DB and o.quality >= CONFIDENT]
    leads = [
        (n, lead, snr, o.lead_confidence.get(lead, 0.0)) for n, o in done.items() for lead, snr in o.lead_snr.items()
    ]
    wrong_leads = [x for x in leads if x[2] < WRONG_LEAD_DB and x[3] >= CONFIDENT]
    print(f"{method}: confidently wrong: images {len(wrong_images)} of {len(done)} (SNR < {WRONG_IMAGE_DB:g} dB, "
          f"quality >= {CONFIDENT}); leads {len(wrong_leads)} of {len(leads)} (SNR < {WRONG_LEAD_DB:g} dB, "
          f"confidence >= {CONFIDENT}); refused {len(outcomes) - len(done)}")
    for n in wrong_images:
        print(f"  confidently wrong image {n}: SNR {done[n].snr:.1f} dB, quality {done[n].quality:.2f}")
    bins = [(-np.inf, 0.0), (0.0, 3.0), (3.0, 8.0), (8.0, 13.0), (13.0, np.inf)]
    print(f"{'SNR bin (dB)':>14s} {'images':>6s} {'median quality':>14s} {'q>=0.5':>6s} {'leads':>6s} "
          f"{'median conf':>11s} {'c>=0.5':>6s}")
    for lo, hi in bins:
        qs = [o.quality for o in done.values() if lo <= o.snr < hi]
        cs = [c for _, _, snr, c in leads if lo <= snr < hi]
        print(f"{f'[{lo:g}, {hi:g})':>14s} {len(qs):6d} {np.median(qs) if qs else float('nan'):14.2f} "
              f"{sum(q >= CONFIDENT for q in qs):6d} {len(cs):6d} {np.median(cs) if cs else float('nan'):11.2f} "
              f"{sum(c >= CONFIDENT for c in cs):6d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("refs", type=Path)
    parser.add_argument("--method", default="classical", help="comma-separated: classical,unet")
    parser.add_argument("--kinds", default="auto", help="'kit-dev', 'synth' or 'auto' (index.csv name,kind)")
    parser.add_argument("--overlays", type=Path, default=None, help="write overlay PNGs here")
    parser.add_argument("--highpass", type=float, default=0.0, help="high-pass cut-off in Hz (0 = none, default)")
    parser.add_argument("--no-smooth", action="store_true", help="skip the Savitzky–Golay smoother")
    parser.add_argument("--limit", type=int, default=0, help="only the first N images")
    parser.add_argument("--save", type=Path, default=None, help="write every outcome (JSON) here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every record")
    parser.add_argument("--cached", type=Path, default=None,
                        help="score the digitizations bench/digitize_cache.py stored in this folder (no digitizing)")
    args = parser.parse_args(argv)

    pairs = find_pairs(args.images, args.refs)
    if args.limit:
        pairs = pairs[: args.limit]
    if not pairs:
        print(f"no image with a matching reference in {args.images} / {args.refs}", file=sys.stderr)
        return 2
    index = {} if args.kinds == "kit-dev" else read_index(args.images)
    groups = {name: groups_for(name, args.kinds, index) for name, _, _ in pairs}
    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    if args.cached is not None:
        methods = [f"cached:{args.cached.name}"]
        results = {methods[0]: cached_outcomes(pairs, args.cached)}
        if not results[methods[0]]:
            print(f"nothing cached for these images in {args.cached}", file=sys.stderr)
            return 2
    else:
        results = {method: run_method(method, pairs, args) for method in methods}
    print(f"digitize_eval: images={len(pairs)} highpass={args.highpass or 'none'} smooth={not args.no_smooth}")
    for method in methods:
        print_table(method, results[method], groups, index if args.kinds == "synth" else {})
    for method in methods:
        print_confidence(method, results[method])
    if args.save is not None:
        import json

        args.save.write_text(json.dumps({m: {n: o.__dict__ for n, o in r.items()} for m, r in results.items()}))
    for method in methods:
        for name, outcome in results[method].items():
            if outcome.error:
                print(f"failed ({method}) {name}: {outcome.error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
