"""Make a small DataSynth evaluation set: every layout × distortion level, from LUDB records (not used in training).

Usage::

    python bench/make_synth_eval.py out/synth-eval [--per-cell 2] [--seed 2024]

Writes ``NAME.png|jpg`` + the DataSynth ground truth (``NAME.json``, ``NAME_signals.csv`` = the signals exactly as
plotted, NaN outside each lead's window) and ``index.csv`` (``name,kind,layout,level,paper``) for
``bench/digitize_eval.py out/synth-eval out/synth-eval --kinds synth``. LUDB (Kalyakulina et al., PhysioNet 2020,
ODC-By) is used so that no record of the segmenter's PTB-XL training renders is scored.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ecg.io import read_record  # noqa: E402
from synth import synthesize, write_sample  # noqa: E402

LUDB = ROOT / ".." / "shared" / "data" / "ludb" / "data"
LAYOUTS = ("3x4+1", "3x4+3", "3x4", "6x2", "12x1")
LEVELS = ("none", "scan", "photo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-cell", type=int, default=2, help="images per layout × level")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--records", type=Path, default=LUDB)
    args = parser.parse_args(argv)
    records = sorted(args.records.glob("*.hea"), key=lambda p: int(p.stem) if p.stem.isdigit() else 0)
    if not records:
        print(f"no records in {args.records}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    rows = []
    k = 0
    for layout in LAYOUTS:
        for level in LEVELS:
            for _ in range(args.per_cell):
                record = read_record(records[int(rng.integers(len(records)))])
                seed = int(rng.integers(2**31))
                rendered = synthesize(record, seed, level, layout=layout, speed_mm_s=25.0)
                name = f"s{k:03d}"
                suffix = ".png" if level == "none" else ".jpg"
                write_sample(rendered, args.out / f"{name}{suffix}", args.out / f"{name}.json")
                paper = rendered.truth.spec.paper.name
                kind = f"{layout}/{level}"
                rows.append({"name": name, "kind": kind, "layout": layout, "level": level, "paper": paper})
                print(name, kind, paper, flush=True)
                k += 1
    with (args.out / "index.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["name", "kind", "layout", "level", "paper"])
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
