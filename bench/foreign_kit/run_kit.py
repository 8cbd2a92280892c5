"""Render one foreign set (val / test) with ECG-Image-Kit, in-process, one image at a time.

Re-creation of the wrapper described in ecgscreen docs/notes/foreign-renders.md. Our code (it imports the kit
from a checkout outside this repository; none of the kit's code is here).
Usage: python run_kit.py SET [--limit N] [--only NAME,...] [--out DIR]
Reads /work/kit/plan-SET.json (plan.py), writes DIR/NAME.{png|jpg,hea,dat} and DIR/index.csv (default
/work/foreign/SET). Kit scratch output goes to /work/kit/out/SET, converted records to /work/kit/records/SET.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb
from PIL import Image

KIT = Path("/work/kit/ecg-image-kit/codes/ecg-image-generator")
PTBXL = Path("/work/shared/data/ptbxl")
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
CONTRACT = ["name", "kind", "ecg_id", "patient_id", "layout", "rhythm_leads", "lead_order", "dpi", "paper",
            "augmented", "scp_codes"]
EXTRA = ["image", "width", "height", "seed", "calibration_pulse", "print_header", "wrinkles", "rotate_deg", "noise",
         "crop", "windows", "kit_args", "seconds"]

# --- kit import: HandwrittenText.generate imports TensorFlow/spaCy (not installed); --hw_text is never used.
_stub = types.ModuleType("HandwrittenText.generate")


def _no_handwriting(*args, **kwargs):
    raise RuntimeError("handwritten text is not available in this environment (stub)")


_stub.get_handwritten = _no_handwriting
sys.modules["HandwrittenText.generate"] = _stub
sys.path.insert(0, str(KIT))
os.chdir(KIT)  # the kit opens Fonts/ and CreasesWrinkles/ relative to the working directory
import random  # noqa: E402

import gen_ecg_image_from_data as kit  # noqa: E402
import imgaug  # noqa: E402
import imgaug.augmenters as iaa  # noqa: E402

# record the rotation the kit draws (it stores only the -rot bound in its JSON); the call is passed through as is
_drawn: dict = {}
_Affine = iaa.Affine


def _recording_affine(*args, **kwargs):
    _drawn["rotate"] = kwargs.get("rotate")
    return _Affine(*args, **kwargs)


iaa.Affine = _recording_affine


def convert_record(row: dict, db: pd.DataFrame, dest: Path) -> np.ndarray:
    """PTB-XL FLAC record -> plain format-16 WFDB dest/NAME (1 µV steps); returns the signal in µV (int)."""
    rec = wfdb.rdrecord(str(PTBXL / row["filename_hr"]))
    names = [s.upper() for s in rec.sig_name]
    order = [names.index(l.upper()) for l in LEADS]
    sig = rec.p_signal[:, order]
    d = np.round(sig * 1000).astype(np.int64)
    assert d.shape == (5000, 12) and np.abs(d).max() < 32767, d.shape
    meta = db.loc[row["ecg_id"]]
    comments = [f"Age: {int(meta['age'])}" if pd.notna(meta["age"]) else "Age: Unknown",
                f"Sex: {'Male' if int(meta['sex']) == 0 else 'Female'}",
                f"Height: {int(meta['height'])}" if pd.notna(meta["height"]) else "Height: Unknown",
                f"Weight: {int(meta['weight'])}" if pd.notna(meta["weight"]) else "Weight: Unknown"]
    stamp = pd.Timestamp(meta["recording_date"])
    dest.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(row["name"], fs=500, units=["mV"] * 12, sig_name=LEADS, d_signal=d.astype(np.int16), fmt=["16"] * 12,
                adc_gain=[1000.0] * 12, baseline=[0] * 12, comments=comments, base_date=stamp.date(),
                base_time=stamp.time(), write_dir=str(dest))
    back = wfdb.rdrecord(str(dest / row["name"]), physical=False)
    assert np.array_equal(back.d_signal, d), "read-back of the converted record differs"
    return d


def write_reference(d: np.ndarray, windows: dict[str, list[list[int]]], dest: Path, name: str) -> None:
    """NAME.hea/.dat: the record on each lead's plotted samples, NaN (WFDB invalid sample) elsewhere."""
    out = np.full(d.shape, -32768, dtype=np.int16)
    for k, lead in enumerate(LEADS):
        for s, e in windows.get(lead, []):
            out[s:e, k] = d[s:e, k]
    wfdb.wrsamp(name, fs=500, units=["mV"] * 12, sig_name=LEADS, d_signal=out, fmt=["16"] * 12,
                adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(dest))


def kit_arguments(row: dict, rec: Path, out: Path) -> list[str]:
    """The kit's command-line options for one planned image (see the note's table)."""
    kind = row["kind"]
    layout = {4: "3x4", 2: "6x2", 1: "12x1"}[row["columns"]]
    cfg = f"/work/kit/configs/{'cab' if row['lead_order'] == 'cabrera-avr' else 'std'}-{layout}.yaml"
    args = ["-i", str(rec.with_suffix(".dat")), "-hea", str(rec.with_suffix(".hea")), "-o", str(out),
            "-se", str(row["seed"]), "-st", "0", "--num_columns", str(row["columns"]), "--full_mode", row["rhythm"],
            "--config_file", cfg, "-r", str(row["dpi"]), "--pad_inches", str(row["pad_inches"]),
            "--calibration_pulse", str(row["calibration_pulse"]), "--store_config", "2"]
    if kind == "bw":
        args += ["--random_bw", "1"]
    elif row["random_grid"]:
        args += ["--random_grid_color"]
    else:
        args += ["--standard_grid_color", str(row["grid"])]
    if row["print_header"]:
        args += ["--print_header"]
    if kind == "std-scan":
        args += ["--wrinkles", "--augment", "-rot", "5", "-noise", "40"]
    return args


def merge(windows: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for s, e in sorted(windows):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def render(row: dict, db: pd.DataFrame, set_name: str, dest: Path) -> dict:
    t0 = time.time()
    name = row["name"]
    recs = Path(f"/work/kit/records/{set_name}")
    out = Path(f"/work/kit/out/{set_name}")
    out.mkdir(parents=True, exist_ok=True)
    d = convert_record(row, db, recs)
    args = kit_arguments(row, recs / name, out)
    seed = row["seed"]
    random.seed(seed)
    np.random.seed(seed)
    imgaug.seed(seed)
    _drawn.clear()
    n = kit.run_single_file(kit.get_parser().parse_args(args))
    assert n == 1, n
    meta = json.loads((out / f"{name}-0.json").read_text())
    raw: dict[str, list[list[int]]] = {}
    for lead in meta["leads"]:
        raw.setdefault(lead["lead_name"], []).append([int(lead["start_sample"]), int(lead["end_sample"])])
    windows = {k: merge(v) for k, v in raw.items()}
    image = Image.open(out / f"{name}-0.png")
    rgba = np.asarray(image)
    if rgba.ndim == 3 and rgba.shape[2] == 4:
        assert rgba[:, :, 3].min() == 255, "alpha channel is not fully opaque"
    rgb = image.convert("RGB")
    if row["kind"] == "std-scan":
        file = f"{name}.jpg"
        rgb.save(dest / file, quality=92)
    else:
        file = f"{name}.png"
        rgb.save(dest / file)
    write_reference(d, windows, dest, name)
    return {"name": name, "kind": row["kind"], "ecg_id": row["ecg_id"], "patient_id": row["patient_id"],
            "layout": row["layout"], "rhythm_leads": row["rhythm"], "lead_order": row["lead_order"],
            "dpi": row["dpi"], "paper": row["paper"], "augmented": bool(meta.get("augment", False)),
            "scp_codes": row["scp_codes"], "image": file, "width": rgb.width, "height": rgb.height, "seed": seed,
            "calibration_pulse": row["calibration_pulse"], "print_header": bool(meta.get("printed_text")),
            "wrinkles": bool(meta.get("wrinkles")), "rotate_deg": _drawn.get("rotate", 0),
            "noise": meta.get("noise", 0), "crop": meta.get("crop", 0), "windows": json.dumps(windows),
            "kit_args": " ".join(args[6:]), "seconds": round(time.time() - t0, 2)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("set", choices=["val", "test", "val2"])
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--only", default="")
    p.add_argument("--out", default="")
    a = p.parse_args()
    plan = json.loads(Path(f"/work/kit/plan-{a.set}.json").read_text())
    if a.only:
        plan = [r for r in plan if r["name"] in a.only.split(",")]
    if a.limit:
        plan = plan[: a.limit]
    dest = Path(a.out or f"/work/foreign/{a.set}")
    dest.mkdir(parents=True, exist_ok=True)
    db = pd.read_csv(PTBXL / "ptbxl_database.csv", index_col="ecg_id")
    index = dest / "index.csv"
    done = {}
    if index.exists():
        done = {r["name"]: r for r in csv.DictReader(index.open())}
    rows = []
    for row in plan:
        if row["name"] in done and (dest / done[row["name"]]["image"]).exists():
            rows.append(done[row["name"]])
            continue
        r = render(row, db, a.set, dest)
        rows.append(r)
        print(f"{r['name']} {r['kind']} ecg_id={r['ecg_id']} {r['width']}x{r['height']} rot={r['rotate_deg']} "
              f"{r['seconds']}s", flush=True)
        with index.open("w", newline="") as f:  # rewritten after every image: re-runnable
            w = csv.DictWriter(f, fieldnames=CONTRACT + EXTRA)
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
