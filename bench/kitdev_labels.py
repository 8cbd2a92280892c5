"""Write the reference labels CSV (`file,labels`) for the ECG-Image-Kit images in ../shared/data/kit-dev.

The labels are the shared cross-check labels (`classify.crosscheck.SHARED_LABELS`) derived from the PTB-XL
`scp_codes` of the record each image plots (kit-dev/index.csv → ptbxl_database.csv), through the documented tables
`classify.labels.tiled_labels` (per class) and `classify.labels.fusion_label` (ABNORMAL).

    python bench/kitdev_labels.py -o out/kitdev_labels.csv
    ecgscreen agreement ../shared/data/kit-dev --labels out/kitdev_labels.csv -o out/agreement/kitdev.json \
        --html out/agreement/kitdev.html
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

from classify.crosscheck import SHARED_LABELS  # noqa: E402
from classify.labels import fusion_label, load_diagnostic_classes, tiled_labels  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args()
    index = pd.read_csv(args.data / "kit-dev" / "index.csv")
    database = pd.read_csv(args.data / "ptbxl" / "ptbxl_database.csv", index_col="ecg_id")
    classes = load_diagnostic_classes(args.data / "ptbxl" / "scp_statements.csv")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "labels"])
        for row in index.itertuples():
            codes = database.loc[int(row.ecg_id), "scp_codes"]
            labels = [c for c in tiled_labels(codes) if c in SHARED_LABELS]
            if fusion_label(codes, classes) == 1:
                labels.append("ABNORMAL")
            writer.writerow([row.image, " ".join(sorted(set(labels)))])
    print(f"wrote {len(index)} rows to {args.out}")


if __name__ == "__main__":
    main()
