"""Check the references against the kit's plotted_pixels (every panel) and the NaN mask against the windows.
Usage: python verify2.py SET [--limit N]"""
import csv, json, sys
import numpy as np, wfdb
from pathlib import Path
LEADS = ["I","II","III","aVR","aVL","aVF","V1","V2","V3","V4","V5","V6"]
s = sys.argv[1]; limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
dest = Path(f"/work/foreign/{s}"); out = Path(f"/work/kit/out/{s}")
rows = list(csv.DictReader(open(dest / "index.csv")))[:limit]
worst_plain, worst_aug, panels, mask_bad = 1.0, 1.0, 0, 0
for r in rows:
    name = r["name"]; meta = json.loads((out / f"{name}-0.json").read_text())
    ref = wfdb.rdrecord(str(dest / name)).p_signal  # (5000, 12) mV, NaN outside
    aug = r["augmented"] == "True"
    covered = np.zeros_like(ref, dtype=bool)
    for lead in meta["leads"]:
        k = LEADS.index(lead["lead_name"]); a, b = lead["start_sample"], lead["end_sample"]
        covered[a:b, k] = True
        px = np.array(lead["plotted_pixels"], float); y = ref[a:b, k]
        assert len(px) == b - a and np.isfinite(y).all(), (name, lead["lead_name"])
        if aug:
            A = np.c_[px, np.ones(len(px))]; coef, *_ = np.linalg.lstsq(A, y, rcond=None)
            rr = np.corrcoef(A @ coef, y)[0, 1]; worst_aug = min(worst_aug, rr)
        else:
            rr = np.corrcoef(px[:, 0], -y)[0, 1]; worst_plain = min(worst_plain, rr)
        panels += 1
    if not np.array_equal(covered, np.isfinite(ref)):
        mask_bad += 1; print("mask differs", name)
    win = json.loads(r["windows"])
    for k, l in enumerate(LEADS):
        m = np.zeros(5000, bool)
        for a, b in win.get(l, []): m[a:b] = True
        if not np.array_equal(m, covered[:, k]): print("windows column differs", name, l)
print(f"{s}: {len(rows)} images, {panels} panels; min corr(row, -ref) un-augmented {worst_plain:.7f}; "
      f"min affine r augmented {worst_aug:.7f}; NaN mask != windows on {mask_bad} images")
