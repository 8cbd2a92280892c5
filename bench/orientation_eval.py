"""Orientation detection on DataSynth renders turned by 0°, 90°, 180° and 270°: how often the turn is recovered.

Usage::

    python bench/orientation_eval.py [-n 6] [--levels none,scan,photo] [--papers red,bw,none,...] [--seed 9]
                                     [--method model,heuristic] [--kit-dev ../shared/data/kit-dev]

Each render (random layout and paper unless pinned, from LUDB records) is turned by every quarter and must be put
upright again. ``--kit-dev DIR`` uses the 36 ECG-Image-Kit images there instead (upright; grouped clean d001–d012,
scan d013–d024, photo d025–d036). Methods: ``model`` is :func:`digitize.orient.detect_orientation` as the pipeline
calls it (the orientation network when ``models/orient.onnx`` is present, the heuristic when it is unsure),
``heuristic`` is :func:`digitize.orient.heuristic_orientation` alone; several, comma-separated, run on the same
images. Prints per level (or kind) and method the share recovered, the share called confident, the
confident-but-wrong count (the one that matters: a wrong reading), the share decided by the network and the median
time per call (ms).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from digitize.orient import detect_orientation, heuristic_orientation  # noqa: E402
from ecg.io import read_record  # noqa: E402

LUDB = ROOT / ".." / "shared" / "data" / "ludb" / "data"


METHODS = {"model": detect_orientation, "heuristic": heuristic_orientation}
KIT_KINDS = ((1, "clean"), (13, "scan"), (25, "photo"))
"""First image number of each kit-dev kind."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=6, help="renders per level")
    parser.add_argument("--levels", default="none,scan,photo")
    parser.add_argument("--papers", default="", help="comma-separated paper styles (default: random)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--method", default="model", help="comma-separated: model, heuristic")
    parser.add_argument("--kit-dev", type=Path, default=None, help="folder of the kit-dev images (upright)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    methods = [m for m in args.method.split(",") if m]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        parser.error(f"unknown method {unknown}; choose from {', '.join(METHODS)}")
    images = _kit_dev_images(args.kit_dev) if args.kit_dev else _render_images(args)
    if images is None:
        return 2
    stats: dict[tuple[str, str], list[tuple[bool, bool, bool, float]]] = defaultdict(list)
    for method in methods:  # first call loads the network: not timed
        METHODS[method](np.full((64, 96, 3), 255, np.uint8))
    for group, label, image in images:
        for turn in range(4):
            turned = np.ascontiguousarray(np.rot90(image, turn))
            for method in methods:
                start = time.perf_counter()
                found = METHODS[method](turned)
                seconds = time.perf_counter() - start
                right = (found.quarter_turns + turn) % 4 == 0
                by_model = "orientation model p=" in found.note
                stats[(group, method)].append((right, found.confident, by_model, seconds))
                if args.verbose or (found.confident and not right):
                    print(
                        f"{method:9s} {group:6s} {label:22s} turned {90 * turn:3d}° → "
                        f"{'ok ' if right else 'BAD'} {found.note}",
                        flush=True,
                    )
    print(
        f"{'level':8s} {'method':9s} {'n':>4s} {'recovered':>9s} {'confident':>9s} {'conf. wrong':>11s} "
        f"{'by model':>8s} {'median ms':>9s}"
    )
    groups = list(dict.fromkeys(g for g, _ in stats))
    for group in [*groups, "all"] if len(groups) > 1 else groups:
        for method in methods:
            rows = [r for (g, m), rs in stats.items() if m == method and group in (g, "all") for r in rs]
            right = np.array([r[0] for r in rows])
            sure = np.array([r[1] for r in rows])
            by_model = np.array([r[2] for r in rows])
            print(
                f"{group:8s} {method:9s} {len(rows):4d} {right.mean():9.2f} {sure.mean():9.2f} "
                f"{int((sure & ~right).sum()):11d} {by_model.mean():8.2f} {1000 * np.median([r[3] for r in rows]):9.1f}"
            )
    return 0


def _render_images(args: argparse.Namespace) -> list[tuple[str, str, np.ndarray]] | None:
    """Upright DataSynth renders of LUDB records: (level, description, RGB image)."""
    from synth import synthesize

    records = sorted(LUDB.glob("*.hea"))
    if not records:
        print(f"no records in {LUDB}", file=sys.stderr)
        return None
    rng = np.random.default_rng(args.seed)
    papers = [p for p in args.papers.split(",") if p]
    images = []
    for level in args.levels.split(","):
        for i in range(args.n):
            record = read_record(records[int(rng.integers(len(records)))])
            paper = papers[i % len(papers)] if papers else None
            rendered = synthesize(record, int(rng.integers(2**31)), level, paper=paper)
            spec = rendered.truth.spec
            images.append((level, f"{spec.layout:6s} {spec.paper.name:8s}", rendered.image[:, :, ::-1]))
    return images


def _kit_dev_images(folder: Path) -> list[tuple[str, str, np.ndarray]] | None:
    """The kit-dev images dNNN.png/.jpg (upright) with their kind: (kind, name, RGB image)."""
    from digitize.load import load_image

    paths = sorted(p for p in folder.glob("d[0-9][0-9][0-9].*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not paths:
        print(f"no dNNN.png/.jpg images in {folder}", file=sys.stderr)
        return None
    images = []
    for path in paths:
        number = int(path.stem[1:])
        kind = [name for first, name in KIT_KINDS if number >= first][-1]
        images.append((kind, path.name, load_image(path)))
    return images


if __name__ == "__main__":
    sys.exit(main())
