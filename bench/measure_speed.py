"""Speed of `analyze.measure` on a 10 s 12-lead record at 500 Hz, against a NeuroKit2 baseline in the same run.

Baseline: ``nk.ecg_process`` (clean, peaks, rate, quality, DWT delineation) on lead II alone — what a one-lead
NeuroKit2 pipeline costs. Prints the median over ``--runs`` runs (≥ 10) of each and their ratio. The record is
LUDB record 1 when ``../shared/data`` is present, otherwise the synthetic record of :mod:`analyze.simulate`.

Usage::

    python bench/measure_speed.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import neurokit2 as nk  # noqa: E402

from analyze import measure  # noqa: E402
from analyze.simulate import simulate_ecg  # noqa: E402
from ecg.io import read_record  # noqa: E402

LUDB_RECORD = REPO / ".." / "shared" / "data" / "ludb" / "data" / "1.hea"


def timed(func, runs: int) -> list[float]:
    func()  # warm-up (imports, caches)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    runs = max(10, args.runs)
    record = read_record(LUDB_RECORD) if LUDB_RECORD.exists() else simulate_ecg()
    source = "LUDB record 1" if LUDB_RECORD.exists() else "synthetic (analyze.simulate)"
    lead_ii = record.lead("II").astype(float)

    def baseline() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nk.ecg_process(lead_ii, sampling_rate=record.fs)

    ours = timed(lambda: measure(record), runs)
    base = timed(baseline, runs)
    m_ours, m_base = statistics.median(ours), statistics.median(base)
    print(f"record: {source}, {record.duration_s:.0f} s × 12 leads at {record.fs:.0f} Hz; {runs} runs each")
    print(f"analyze.measure (12 leads):      median {1000 * m_ours:7.1f} ms  (min {1000 * min(ours):.1f}, "
          f"max {1000 * max(ours):.1f})  target < 500 ms: {'PASS' if m_ours < 0.5 else 'FAIL'}")
    print(f"nk.ecg_process (lead II alone):  median {1000 * m_base:7.1f} ms  (min {1000 * min(base):.1f}, "
          f"max {1000 * max(base):.1f})")
    print(f"ratio measure / ecg_process:     {m_ours / m_base:.2f}")


if __name__ == "__main__":
    main()
