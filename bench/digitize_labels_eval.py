"""Lead-label reading accuracy on foreign images whose index.csv tells the layout, lead order and rhythm leads.

Usage::

    python bench/digitize_labels_eval.py IMAGES [--limit N] [--save FILE.json]

For each image whose detected layout is the printed one, every panel's expected lead (template in the
``lead_order`` of index.csv: standard or Cabrera; rhythm strips from ``rhythm_leads``) is compared with the label
read next to it (:mod:`digitize.labels`): printed are the share of panels with a label found, read (p ≥ 0.5), read
right, read wrong; by kind; the seconds spent reading labels per image (median), and the final lead assignment's
agreement with the expected one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.digitize_eval import IMAGE_SUFFIXES, read_index  # noqa: E402
from digitize.candidates import CABRERA  # noqa: E402
from digitize.layout import TEMPLATES  # noqa: E402
from digitize.pipeline import digitize_image  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402


def expected_rows(layout: str, order: str, rhythm: str) -> list[list[str]]:
    """Expected lead names per row of a printed layout."""
    rows = [list(r) for r in TEMPLATES[layout]]
    n_grid = {"3x4": 3, "6x2": 6, "12x1": 12}.get(layout.split("+")[0], len(rows))
    if order.startswith("cabrera"):
        rows = [[CABRERA.get(lead, lead) for lead in r] if i < n_grid else r for i, r in enumerate(rows)]
    strips = [s for s in rhythm.split(",") if s]
    for i, lead in enumerate(strips):
        if n_grid + i < len(rows):
            rows[n_grid + i] = [lead]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--save", type=Path, default=None)
    args = parser.parse_args(argv)
    index = read_index(args.images)
    names = sorted(p for p in args.images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.stem in index)
    if args.limit:
        names = names[: args.limit]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    seconds: list[float] = []
    saved = {}
    for path in names:
        row = index[path.stem]
        kind = row["kind"]
        try:
            result = digitize_image(path)
        except EcgInputError as exc:
            counts[kind]["refused"] += 1
            saved[path.stem] = {"error": str(exc)}
            continue
        seconds.append(result.timings_s.get("labels", float("nan")))
        counts[kind]["images"] += 1
        if result.layout.template != row["layout"]:
            counts[kind]["layout wrong"] += 1
            saved[path.stem] = {"layout": result.layout.template}
            continue
        rows = expected_rows(row["layout"], row["lead_order"], row.get("rhythm_leads", ""))
        reads = {r.panel: r for r in result.labels}
        panels = []
        for i, panel in enumerate(result.layout.panels):
            col = sum(1 for q in result.layout.panels[:i] if q.row == panel.row)
            want = rows[panel.row][col]
            read = reads.get(i)
            c = counts[kind]
            c["panels"] += 1
            c["found"] += read is not None
            c["read"] += read is not None and read.lead is not None
            c["right"] += read is not None and read.lead == want
            c["wrong"] += read is not None and read.lead is not None and read.lead != want
            c["final right"] += panel.lead == want
            panels.append({"want": want, "read": None if read is None else read.lead,
                           "p": None if read is None else round(read.probability, 3), "final": panel.lead})
        saved[path.stem] = {"panels": panels, "labels_s": result.timings_s.get("labels")}
        print(path.stem, kind, " ".join(f"{p['want']}:{p['read']}" for p in panels if p["read"] != p["want"]),
              flush=True)
    print(f"{'kind':14s} {'images':>6s} {'layout≠':>7s} {'panels':>6s} {'found':>6s} {'read':>6s} {'right':>6s} "
          f"{'wrong':>6s} {'final ok':>8s}")
    for kind in sorted(counts):
        c = counts[kind]
        n = max(1, c["panels"])
        print(f"{kind:14s} {c['images']:6d} {c['layout wrong']:7d} {c['panels']:6d} {c['found'] / n:6.2f} "
              f"{c['read'] / n:6.2f} {c['right'] / n:6.2f} {c['wrong'] / n:6.2f} {c['final right'] / n:8.2f}")
    print(f"label reading: median {np.nanmedian(seconds):.3f} s per image (n={len(seconds)})")
    if args.save:
        args.save.write_text(json.dumps(saved))
    return 0


if __name__ == "__main__":
    sys.exit(main())
