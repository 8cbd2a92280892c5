"""Labels that travel with rendered images: a table read from a PTB-XL ``ptbxl_database.csv`` (``scp_codes``,
``patient_id``, ``strat_fold``) or from any CSV with a ``record`` column, looked up by record file name."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ecg.errors import FormatError

_PTBXL_COLUMNS = ("scp_codes", "patient_id", "strat_fold", "age", "sex")


def load_label_table(path: str | Path) -> dict[str, dict[str, Any]]:
    """Labels by record key, from a PTB-XL database CSV or a CSV whose ``record`` column names record stems.

    PTB-XL rows are reachable by the stems of ``filename_hr``/``filename_lr`` (``00449_hr``) and by ``ecg_id``.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise FormatError(f"{path.name}: not a readable labels CSV ({exc})") from None
    out: dict[str, dict[str, Any]] = {}
    if "ecg_id" in table.columns and "scp_codes" in table.columns:
        for row in table.itertuples(index=False):
            labels: dict[str, Any] = {}
            for column in _PTBXL_COLUMNS:
                value = getattr(row, column, None)
                if column == "scp_codes":
                    value = {str(k): float(v) for k, v in ast.literal_eval(str(value)).items()}
                elif pd.isna(value):
                    continue
                elif isinstance(value, float) and value.is_integer():
                    value = int(value)
                labels[column] = value
            labels["ecg_id"] = int(row.ecg_id)
            out[str(int(row.ecg_id))] = labels
            for column in ("filename_hr", "filename_lr"):
                name = getattr(row, column, None)
                if isinstance(name, str):
                    out[Path(name).name] = labels
        return out
    if "record" not in table.columns:
        raise FormatError(f"{path.name}: labels CSV needs a 'record' column (or PTB-XL's 'ecg_id' and 'scp_codes')")
    for row in table.to_dict(orient="records"):
        key = Path(str(row.pop("record"))).stem
        out[key] = {k: v for k, v in row.items() if not (isinstance(v, float) and pd.isna(v))}
    return out


def labels_for(record_path: str | Path, table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The table's labels for a record file: by its stem, else by the number in its name (PTB-XL ``ecg_id``)."""
    stem = Path(record_path).stem
    if stem in table:
        return dict(table[stem])
    match = re.search(r"(\d+)", stem)
    if match and str(int(match.group(1))) in table:
        return dict(table[str(int(match.group(1)))])
    return {}
