"""Dump the project's patient-wise split (read-only) for the foreign-render plan. Run with the project venv."""
import json
import sys

import pandas as pd

from classify.train.data import assign_splits, kit_dev_ids, ptbxl_table

PTBXL = "/work/shared/data/ptbxl"
KITDEV = "/work/shared/data/kit-dev"
table = ptbxl_table(PTBXL)
kd = kit_dev_ids(KITDEV)
split = assign_splits(table, "patients", reserved_ids=kd)
db = pd.read_csv(f"{PTBXL}/ptbxl_database.csv", index_col="ecg_id")
kd_patients = set(table.loc[table.index.isin(kd), "patient_id"])
out = {"kit_dev_ids": kd, "kit_dev_patients": sorted(int(p) for p in kd_patients), "records": {}}
for eid in table.index:
    out["records"][int(eid)] = {"split": split[eid], "patient_id": int(table.at[eid, "patient_id"]),
        "scp_codes": db.at[eid, "scp_codes"], "tiled_labels": table.at[eid, "tiled_labels"],
        "filename_hr": db.at[eid, "filename_hr"]}
json.dump(out, open(sys.argv[1], "w"))
print(split.value_counts().to_dict(), "kitdev ids", len(kd), "patients", len(kd_patients))
