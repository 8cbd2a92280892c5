"""Orientation detection on DataSynth renders turned by 0°, 90°, 180° and 270°: how often the turn is recovered.

Usage::

    python bench/orientation_eval.py [-n 6] [--levels none,scan,photo] [--papers red,bw,none,...] [--seed 9]

Each render (random layout and paper unless pinned, from LUDB records) is turned by every quarter and
:func:`digitize.orient.detect_orientation` must undo it. Prints per level the share recovered, the share called
confident, the confident-but-wrong count (the one that matters: a wrong reading) and the median time per call.
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

from digitize.orient import detect_orientation  # noqa: E402
from digitize.synth import synthesize  # noqa: E402
from ecg.io import read_record  # noqa: E402

LUDB = ROOT / ".." / "shared" / "data" / "ludb" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=6, help="renders per level")
    parser.add_argument("--levels", default="none,scan,photo")
    parser.add_argument("--papers", default="", help="comma-separated paper styles (default: random)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    records = sorted(LUDB.glob("*.hea"))
    if not records:
        print(f"no records in {LUDB}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    papers = [p for p in args.papers.split(",") if p]
    stats: dict[str, list[tuple[bool, bool, float]]] = defaultdict(list)
    for level in args.levels.split(","):
        for i in range(args.n):
            record = read_record(records[int(rng.integers(len(records)))])
            paper = papers[i % len(papers)] if papers else None
            rendered = synthesize(record, int(rng.integers(2**31)), level, paper=paper)
            image = rendered.image[:, :, ::-1]
            for turn in range(4):
                turned = np.ascontiguousarray(np.rot90(image, turn))
                start = time.perf_counter()
                found = detect_orientation(turned)
                seconds = time.perf_counter() - start
                right = (found.quarter_turns + turn) % 4 == 0
                stats[level].append((right, found.confident, seconds))
                if args.verbose or (found.confident and not right):
                    spec = rendered.truth.spec
                    print(
                        f"{level:6s} {spec.layout:6s} {spec.paper.name:8s} turned {90 * turn:3d}° → "
                        f"{'ok ' if right else 'BAD'} {found.note}",
                        flush=True,
                    )
    print(f"{'level':8s} {'n':>4s} {'recovered':>9s} {'confident':>9s} {'conf. wrong':>11s} {'median s':>8s}")
    for level, rows in stats.items():
        right = np.array([r for r, _, _ in rows])
        sure = np.array([c for _, c, _ in rows])
        print(
            f"{level:8s} {len(rows):4d} {right.mean():9.2f} {sure.mean():9.2f} {int((sure & ~right).sum()):11d} "
            f"{np.median([s for _, _, s in rows]):8.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
