"""Score the digitizer on DataSynth renders with pinned print settings: paper, layout, speed, gain and a quarter turn.

Usage::

    python bench/digitize_cases.py [--papers none] [--levels none,scan,photo] [--layouts 3x4+1,3x4+3,6x2,12x1]
                                   [-n 2] [--speed 25] [--gain 10] [--turn 0] [--seed 3] [-v]

Renders in memory (LUDB records: not used to train the segmenter), optionally turns each image by ``--turn``
counter-clockwise quarter turns (``np.rot90``), digitizes it and prints per render the challenge SNR, the layout
read, the calibration source, px/mm against the truth (meaningful for clean and scan renders; photos are
rescaled), speed, gain and the orientation / speed / gain notes; then mean and median SNR, the share of layouts
read right and the confusion of layouts. Used for the no-grid fallback, the paper speed / gain detection and the
orientation correction figures in the digitizer's notes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
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
from synth import synthesize  # noqa: E402

LUDB = ROOT / ".." / "shared" / "data" / "ludb" / "data"
NOTE_WORDS = ("rotat", "orientation", "speed", "gain")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", default="none")
    parser.add_argument("--levels", default="none,scan,photo")
    parser.add_argument("--layouts", default="3x4+1,3x4+3,6x2,12x1")
    parser.add_argument("-n", type=int, default=2, help="renders per paper × level × layout")
    parser.add_argument("--speed", type=float, default=25.0, help="paper speed (mm/s)")
    parser.add_argument("--gain", type=float, default=10.0, help="gain (mm/mV)")
    parser.add_argument("--turn", type=int, default=0, help="counter-clockwise quarter turns applied to each image")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--records", type=Path, default=LUDB)
    parser.add_argument("-v", "--verbose", action="store_true", help="print the notes of every render")
    args = parser.parse_args(argv)
    records = sorted(args.records.glob("*.hea"))
    if not records:
        print(f"no records in {args.records}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    snrs, right, seconds = [], [], []
    confusion: Counter[tuple[str, str]] = Counter()
    for paper in args.papers.split(","):
        for level in args.levels.split(","):
            for layout in args.layouts.split(","):
                for _ in range(args.n):
                    record = read_record(records[int(rng.integers(len(records)))])
                    rendered = synthesize(
                        record,
                        int(rng.integers(2**31)),
                        level,
                        paper=paper,
                        layout=layout,
                        speed_mm_s=args.speed,
                        gain_mm_mv=args.gain,
                    )
                    image = np.ascontiguousarray(np.rot90(rendered.image[:, :, ::-1], args.turn))
                    start = time.perf_counter()
                    try:
                        result = digitize_image(image)
                    except EcgInputError as exc:
                        print(f"{paper:7s} {level:5s} {layout:6s} failed: {exc}", flush=True)
                        snrs.append(0.0)
                        right.append(False)
                        confusion[(layout, "failed")] += 1
                        continue
                    seconds.append(time.perf_counter() - start)
                    try:
                        scores = record_scores(rendered.truth.plotted.signals, result.record.signals, 500.0, LEADS)
                    except ValueError as exc:  # a render whose plotted signals miss a lead entirely
                        print(f"{paper:7s} {level:5s} {layout:6s} not scored: {exc}", flush=True)
                        continue
                    snr = record_snr(scores)
                    snrs.append(snr)
                    right.append(result.layout.template == layout)
                    confusion[(layout, result.layout.template)] += 1
                    cal = result.calibration
                    print(
                        f"{paper:7s} {level:5s} {layout:6s} → {result.layout.template:6s} SNR {snr:6.2f} dB  "
                        f"{cal.source:7s} px/mm {cal.px_per_mm_x:.2f}/{cal.px_per_mm_y:.2f} "
                        f"(print {rendered.truth.spec.px_per_mm:.2f})  {cal.speed_mm_s:g} mm/s "
                        f"{cal.gain_mm_mv:g} mm/mV "
                        f"quality {result.quality:.2f}",
                        flush=True,
                    )
                    if args.verbose:
                        for note in result.quality_notes:
                            if any(word in note for word in NOTE_WORDS):
                                print(f"    {note}")
    print(
        f"renders {len(snrs)}: mean SNR {np.mean(snrs):.2f} dB, median {np.median(snrs):.2f} dB, "
        f"layout right {100 * np.mean(right):.0f} %, median {np.median(seconds) if seconds else float('nan'):.2f} "
        "s/image"
    )
    print(
        "layout confusion (printed → read: count): "
        + ", ".join(f"{a}→{b}: {n}" for (a, b), n in sorted(confusion.items()))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
