"""Grid evidence on DataSynth renders: how strongly the lines layer repeats, per paper style and distortion level.

Usage::

    python bench/grid_evidence.py [--papers none,bw,red,...] [--levels none,scan,photo] [-n 4] [--seed 5]

For each render: the x periodicity (autocorrelation at the vertical lines' period), how many periods fit across
the paper, and the y periodicity at/near that period; whether :func:`digitize.grid.grid_scale` accepts a grid
and, when it does on a clean or scan render, the px/mm error. The thresholds in ``digitize/grid.py``
(``MIN_GRID_STRENGTH``, ``MIN_GRID_PERIODS``, ``MIN_GRID_AMPLITUDE``) were chosen from this table: the summary
prints the smallest value on gridded paper and the largest on paper without a grid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from digitize.grid import grid_evidence, grid_scale  # noqa: E402
from digitize.preprocess import ink_layers, rectify  # noqa: E402
from ecg.io import read_record  # noqa: E402
from synth import synthesize  # noqa: E402

LUDB = ROOT / ".." / "shared" / "data" / "ludb" / "data"
PAPERS = "none,bw,red,pink,thermal,green,blue,grey"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", default=PAPERS)
    parser.add_argument("--levels", default="none,scan,photo")
    parser.add_argument("-n", type=int, default=4, help="renders per paper × level")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    records = sorted(LUDB.glob("*.hea"))
    if not records:
        print(f"no records in {LUDB}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    rows = []
    print(
        f"{'paper':8s} {'level':6s} {'layout':6s} {'x str':>6s} {'periods':>8s} {'y str':>6s} {'x amp':>7s} "
        "grid  px/mm err"
    )
    for paper in args.papers.split(","):
        for level in args.levels.split(","):
            for _ in range(args.n):
                record = read_record(records[int(rng.integers(len(records)))])
                rendered = synthesize(record, int(rng.integers(2**31)), level, paper=paper, speed_mm_s=25.0)
                rect = rectify(rendered.image[:, :, ::-1].copy())
                lines = ink_layers(rect.image, paper_mask=rect.paper_mask).lines
                ev = grid_evidence(lines, mask=rect.paper_mask)
                px, _, _, _ = grid_scale(lines, mask=rect.paper_mask)
                err = ""
                if ev.is_grid and level != "photo":  # photos are rescaled: the spec's px/mm no longer holds
                    err = f"{100 * (px / rendered.truth.spec.px_per_mm - 1):+.1f} %"
                rows.append((paper != "none", ev))
                print(
                    f"{paper:8s} {level:6s} {rendered.truth.spec.layout:6s} {ev.strength_x:6.3f} {ev.periods_x:8.1f} "
                    f"{ev.strength_y:6.3f} {ev.amplitude_x:7.4f} {'yes' if ev.is_grid else 'no':4s}  {err}",
                    flush=True,
                )
    for gridded, label in ((True, "gridded"), (False, "no grid")):
        evs = [ev for g, ev in rows if g == gridded]
        if not evs:
            continue
        accepted = np.mean([ev.is_grid for ev in evs])
        pick = min if gridded else max
        dense = [ev for ev in evs if ev.periods_x >= 35] or evs
        print(
            f"{label}: n {len(evs)}, grid accepted {100 * accepted:.0f} %, "
            f"{pick.__name__} x strength {pick(ev.strength_x for ev in evs):.3f}, "
            f"{pick.__name__} periods {pick(ev.periods_x for ev in evs):.1f}, "
            f"{pick.__name__} y strength {pick(ev.strength_y for ev in evs):.3f}, "
            f"{pick.__name__} x strength where ≥ 35 periods {pick(ev.strength_x for ev in dense):.3f}, "
            f"{pick.__name__} x amplitude where ≥ 35 periods {pick(ev.amplitude_x for ev in dense):.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
