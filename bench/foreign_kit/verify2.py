"""Check the references against the kit's ``plotted_pixels`` (every panel) and the NaN mask against the windows.

Usage: ``python verify2.py SET [--limit N]`` (kit venv). Un-augmented pages: correlation of the plotted pixel row
with −reference; augmented pages: r of an affine fit from (row, col) to the reference.
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np
import wfdb

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def panel_r(pixels: np.ndarray, values: np.ndarray, augmented: bool) -> float:
    """How exactly the reference values follow the plotted pixel positions of one panel."""
    if augmented:
        design = np.c_[pixels, np.ones(len(pixels))]
        coef, *_ = np.linalg.lstsq(design, values, rcond=None)
        return float(np.corrcoef(design @ coef, values)[0, 1])
    return float(np.corrcoef(pixels[:, 0], -values)[0, 1])


def window_mask(windows: dict, lead: str, n: int = 5000) -> np.ndarray:
    mask = np.zeros(n, bool)
    for a, b in windows.get(lead, []):
        mask[a:b] = True
    return mask


def main(set_name: str, limit: int | None) -> None:
    dest, out = Path(f"/work/foreign/{set_name}"), Path(f"/work/kit/out/{set_name}")
    with open(dest / "index.csv") as handle:
        rows = list(csv.DictReader(handle))[:limit]
    worst = {False: 1.0, True: 1.0}
    panels = mask_bad = 0
    for row in rows:
        name = row["name"]
        meta = json.loads((out / f"{name}-0.json").read_text())
        ref = wfdb.rdrecord(str(dest / name)).p_signal  # (5000, 12) mV, NaN outside the plotted windows
        augmented = row["augmented"] == "True"
        covered = np.zeros_like(ref, dtype=bool)
        for lead in meta["leads"]:
            k, a, b = LEADS.index(lead["lead_name"]), lead["start_sample"], lead["end_sample"]
            covered[a:b, k] = True
            pixels, values = np.array(lead["plotted_pixels"], float), ref[a:b, k]
            assert len(pixels) == b - a and np.isfinite(values).all(), (name, lead["lead_name"])
            worst[augmented] = min(worst[augmented], panel_r(pixels, values, augmented))
            panels += 1
        if not np.array_equal(covered, np.isfinite(ref)):
            mask_bad += 1
            print("mask differs", name)
        windows = json.loads(row["windows"])
        for k, lead_name in enumerate(LEADS):
            if not np.array_equal(window_mask(windows, lead_name), covered[:, k]):
                print("windows column differs", name, lead_name)
    print(f"{set_name}: {len(rows)} images, {panels} panels; min corr(row, -ref) un-augmented {worst[False]:.7f}; "
          f"min affine r augmented {worst[True]:.7f}; NaN mask != windows on {mask_bad} images")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[3]) if len(sys.argv) > 3 else None)
