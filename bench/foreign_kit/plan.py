"""Plan of the foreign renders (val / test): records, kinds and per-image variants.

Re-creation of the recipe in ecgscreen docs/notes/foreign-renders.md. Input: split.json from split_dump.py (the
project's patient-wise split, run read-only with the project venv). Output: plan-<set>.json.
Usage: python plan.py split.json OUTDIR [--variant N]
"""
import ast
import json
import math
import sys

import numpy as np

MUST = {"AFIB", "CLBBB", "CRBBB", "PVC", "AFLT", "WPW"}
KINDS = [("std-clean", .20), ("std-scan", .20), ("6x2", .15), ("other-rhythm", .15), ("12x1", .12),
         ("colour", .10), ("bw", .08)]
SETS = {"val": (0, 150, "v"), "test": (1, 200, "f"), "val2": (2, 144, "w")}
"""set name: (set number for the seeds, images, name prefix). ``val2`` = every val-split record ``val`` left out."""
RHYTHMS = ["V1", "V5", "aVF", "III"]
RHYTHM_P = [1 / 3, 1 / 3, 1 / 6, 1 / 6]
COLOURS = {1: "brown", 2: "pink", 3: "blue", 4: "green"}


def choose_records(split: dict, name: str) -> list[int]:
    setno, n, _ = SETS[name]
    recs = {int(k): v for k, v in split["records"].items()}
    if name == "val2":  # the rest of the val split, in a random order
        used = set(choose_records(split, "val"))
        pool = sorted(e for e, r in recs.items() if r["split"] == "val" and e not in used)
        assert len(pool) == n, (len(pool), n)
        return [int(x) for x in np.random.default_rng([0, setno]).permutation(np.array(pool))]
    kdp = set(split["kit_dev_patients"])
    pool = sorted(e for e, r in recs.items()
                  if r["split"] == name and not (name == "test" and r["patient_id"] in kdp))
    must = [e for e in pool if MUST & set(ast.literal_eval(recs[e]["scp_codes"]))]
    rest = [e for e in pool if e not in set(must)]
    rng = np.random.default_rng([0, setno])
    drawn = [int(x) for x in rng.choice(rest, size=n - len(must), replace=False)]
    ids = rng.permutation(np.array(must + drawn))
    print(f"{name}: pool {len(pool)}, must {len(must)}, drawn {len(drawn)}", file=sys.stderr)
    return [int(x) for x in ids]


def kind_sequence(n: int) -> list[str]:
    """Kinds interleaved in proportion: quotas floor(p*n) (+1 to the first kinds until they sum to n), then at
    image i (0-based) the kind with the largest deficit quota*i/n - count (first in KINDS order on ties)."""
    quota = [math.floor(p * n) for _, p in KINDS]
    j = 0
    while sum(quota) < n:
        quota[j] += 1
        j += 1
    count = [0] * len(KINDS)
    out = []
    for i in range(n):
        deficit = [quota[k] * i / n - count[k] if count[k] < quota[k] else -1e9 for k in range(len(KINDS))]
        k = int(np.argmax(deficit))
        count[k] += 1
        out.append(KINDS[k][0])
    return out


def variants(setno: int, number: int, kind: str) -> dict:
    """Per-image variants, drawn with default_rng([0, set, number]) in a fixed order for every image."""
    rng = np.random.default_rng([0, setno, number])
    cabrera = bool(rng.random() < 0.2)
    rhythm = str(rng.choice(RHYTHMS, p=RHYTHM_P))
    dpi = int(rng.choice([200, 150, 300], p=[0.8, 0.1, 0.1]))
    header = bool(rng.random() < 0.3)
    pad = bool(rng.random() < 0.15)
    no_pulse = bool(rng.random() < 0.25)
    random_grid = bool(rng.random() < 1 / 3)
    grid = int(rng.integers(1, 5))
    v = {"kind": kind, "columns": 4, "rhythm": "II", "lead_order": "standard", "dpi": 200, "print_header": False,
         "pad_inches": 0, "calibration_pulse": 1, "grid": 5, "random_grid": False, "random_bw": 0,
         "augment": False, "layout": "3x4+1"}
    if kind == "std-scan":
        v.update(print_header=True, augment=True)
    if kind not in ("std-clean", "std-scan"):
        v.update(dpi=dpi, print_header=header, pad_inches=1 if pad else 0)
    if kind == "6x2":
        v.update(columns=2, layout="6x2+1", lead_order="cabrera-avr" if cabrera else "standard")
    elif kind == "12x1":
        v.update(columns=1, layout="12x1+1", lead_order="cabrera-avr" if cabrera else "standard")
    elif kind == "other-rhythm":
        v.update(rhythm=rhythm, lead_order="cabrera-avr" if cabrera else "standard")
    elif kind == "colour":
        v.update(calibration_pulse=0 if no_pulse else 1, random_grid=random_grid, grid=grid)
    elif kind == "bw":
        v.update(calibration_pulse=0 if no_pulse else 1, random_bw=1)
    v["paper"] = ("bw" if kind == "bw" else "random-colour" if v["random_grid"]
                  else COLOURS.get(v["grid"], "red"))
    return v


def plan(split: dict, name: str) -> list[dict]:
    setno, n, prefix = SETS[name]
    recs = split["records"]
    ids = choose_records(split, name)
    kinds = kind_sequence(n)
    out = []
    for i, (eid, kind) in enumerate(zip(ids, kinds, strict=True), start=1):
        r = recs[str(eid)]
        out.append({"name": f"{prefix}{i:04d}", "number": i, "ecg_id": eid, "patient_id": r["patient_id"],
                    "scp_codes": r["scp_codes"], "filename_hr": r["filename_hr"],
                    "seed": {"val": 1000, "test": 2000, "val2": 3000}[name] + i, **variants(setno, i, kind)})
    return out


if __name__ == "__main__":
    split = json.load(open(sys.argv[1]))
    for name in SETS:
        p = plan(split, name)
        json.dump(p, open(f"{sys.argv[2]}/plan-{name}.json", "w"), indent=1)
