"""Count tables of a rendered set (as in the note's Counts section). Usage: python counts_index.py SET"""
import sys

import pandas as pd

s = sys.argv[1]
ix = pd.read_csv(f"/work/foreign/{s}/index.csv")
print(f"### {s}: {len(ix)} images\n")
print(ix.groupby(["kind", "layout", "lead_order"]).size().rename("n").reset_index().to_markdown(index=False))


def fmt(column: str) -> str:
    return ", ".join(f"{k} {v}" for k, v in ix[column].value_counts().items())


print(f"\nrhythm leads: {fmt('rhythm_leads')}; paper: {fmt('paper')}; dpi: {fmt('dpi')}; "
      f"render time per image (s): median {ix.seconds.median():.1f}, max {ix.seconds.max():.1f}")
print(f"print_header {int(ix.print_header.sum())}, no pulse {int((ix.calibration_pulse == 0).sum())}, "
      f"sizes {ix.groupby(['width', 'height']).size().to_dict()}")
