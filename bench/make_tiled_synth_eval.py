"""Make a small DataSynth (synthetic) evaluation set for the tiled classifier from PTB-XL test-split records.

Usage::

    python bench/make_tiled_synth_eval.py OUT [--positives 40] [--normals 20]
    python bench/tiled_eval.py --set synth=OUT --cache OUT_CACHE --digitize-missing --raw-models-dir OLD_MODELS

Records of the ``test`` split of ``assign_splits(method="patients")`` (kit-dev patients included there), which the
canonical tiled model never trained on: ``--positives`` records labelled AFIB, CLBBB, CRBBB or PVC and
``--normals`` NORM-only records, drawn with a fixed seed, rendered in turn as 3×4+1 / 6×2 / 12×1 at distortion
none / scan / photo. Writes ``sNNN.png`` and ``index.csv`` (``image,kind,ecg_id,scp_codes``). These are this
project's own renders: label every figure made from them *synthetic*.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classify.train.data import assign_splits, kit_dev_ids, ptbxl_table  # noqa: E402
from ecg.errors import EcgInputError  # noqa: E402
from ecg.io import read_record  # noqa: E402
from synth import synthesize  # noqa: E402

DATA = ROOT / ".." / "shared" / "data"
LAYOUTS = ("3x4+1", "6x2", "12x1")
LEVELS = ("none", "scan", "photo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--positives", type=int, default=40)
    parser.add_argument("--normals", type=int, default=20)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    table = ptbxl_table(DATA / "ptbxl")
    table["split"] = assign_splits(table, "patients", reserved_ids=kit_dev_ids(DATA / "kit-dev"))
    test = table[table["split"] == "test"]
    positives = test[test["tiled_labels"].str.contains("AFIB|CLBBB|CRBBB|PVC")]
    normals = test[test["tiled_labels"] == "NORM"]
    pick = pd.concat(
        [
            positives.sample(min(args.positives, len(positives)), random_state=1),
            normals.sample(min(args.normals, len(normals)), random_state=1),
        ]
    )
    codes = pd.read_csv(DATA / "ptbxl" / "ptbxl_database.csv", index_col="ecg_id")["scp_codes"]
    rows = []
    for k, (ecg_id, row) in enumerate(pick.iterrows()):
        layout, level = LAYOUTS[k % 3], LEVELS[(k // 3) % 3]
        try:
            record = read_record(row["record_path"], fs=500.0)
            image = synthesize(record, seed=1000 + k, distortion=level, layout=layout)
        except EcgInputError as exc:
            print(f"skipped {ecg_id}: {exc}")
            continue
        name = f"s{k:03d}.png"
        cv2.imwrite(str(args.out / name), image.image)
        rows.append({"image": name, "kind": f"{layout}/{level}", "ecg_id": ecg_id, "scp_codes": codes[ecg_id]})
    pd.DataFrame(rows).to_csv(args.out / "index.csv", index=False)
    print(f"{len(rows)} images in {args.out}")


if __name__ == "__main__":
    main()
