"""The rules on a few real PTB-XL records per class (runs only when ``<repo>/../shared/data/ptbxl`` is present).

Records are the first ones by ``ecg_id`` of each class (diagnostic statements at likelihood ≥ 50 %, no pacemaker);
the bench ``bench/findings_ptbxl.py`` gives the figures over all 1,871 records.
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pytest

from analyze import findings, measure
from ecg.io import read_record

PTBXL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ptbxl"
PER_CLASS = 5

pytestmark = pytest.mark.skipif(not (PTBXL / "ptbxl_database.csv").is_file(),
                                reason=f"PTB-XL not found at {PTBXL} (shared data absent)")


def _rows() -> list[dict[str, str]]:
    with open(PTBXL / "ptbxl_database.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _records_of(code: str, *, only: set[str] | None = None) -> list[dict[str, str]]:
    """First :data:`PER_CLASS` records stating ``code`` (likelihood ≥ 50 or a rhythm/form code), no PACE."""
    out = []
    for row in _rows():
        codes = ast.literal_eval(row["scp_codes"])
        if "PACE" in codes or code not in codes:
            continue
        if code in ("NORM", "CLBBB", "CRBBB") and codes[code] < 50:
            continue
        if only is not None and set(codes) - only:
            continue
        out.append(row)
        if len(out) == PER_CLASS:
            break
    return out


def _fired(row: dict[str, str]) -> set[str]:
    record = read_record(PTBXL / f"{row['filename_hr']}.hea")
    sex = {"0": "M", "1": "F"}.get(row["sex"])
    age = float(row["age"]) if row["age"] and float(row["age"]) < 300 else None  # PTB-XL codes > 89 y as 300
    return {f.code for f in findings(measure(record), sex=sex, age=age)}


@pytest.fixture(scope="module")
def fired() -> dict[str, list[set[str]]]:
    classes = {"NORM": _records_of("NORM", only={"NORM", "SR"}), "CLBBB": _records_of("CLBBB"),
               "CRBBB": _records_of("CRBBB"), "AFIB": _records_of("AFIB")}
    return {name: [_fired(row) for row in rows] for name, rows in classes.items()}


def _count(sets: list[set[str]], code: str) -> int:
    return sum(code in s for s in sets)


def test_norm_fires_on_most_plain_normal_records(fired):
    assert _count(fired["NORM"], "NORM") >= PER_CLASS - 1
    assert not any(s & {"CLBBB", "CRBBB", "IVCD", "AFIB", "WPW"} for s in fired["NORM"])


@pytest.mark.parametrize("code", ["CLBBB", "CRBBB", "AFIB"])
def test_class_rule_fires_on_most_records_of_its_class(fired, code):
    assert _count(fired[code], code) >= PER_CLASS - 2
    assert not any("NORM" in s for s in fired[code])


def test_bundle_branch_blocks_are_not_confused(fired):
    assert _count(fired["CLBBB"], "CRBBB") <= 1
    assert _count(fired["CRBBB"], "CLBBB") == 0


def _record(ecg_id: int):
    row = next(r for r in _rows() if int(r["ecg_id"]) == ecg_id)
    return read_record(PTBXL / f"{row['filename_hr']}.hea")


def test_fast_sinus_record_keeps_its_p_wave_and_a_t_end_before_it():
    """PTB-XL 108 (NORM, STACH, 121 /min; strat_fold 1–8): some leads' T ends ran into the next beat's P wave, the
    P-wave search then started after the P wave and the record lost its sinus statement (QTc 540 ms, "long QT")."""
    m = measure(_record(108))
    assert m.pr_ms is not None and 100 <= m.pr_ms <= 200
    assert m.qt_ms is not None and m.qt_ms + m.pr_ms < m.rr_mean_ms  # T ends before the next P wave starts
    assert "STACH" in {f.code for f in findings(m)}
    assert "LQT" not in {f.code for f in findings(m)}


def test_p_onset_of_a_fast_sinus_record_is_not_on_the_previous_t_wave():
    """PTB-XL 497 (NORM, 69 /min) had its P peak on the previous T wave's tail (PR 426 ms, first-degree block)."""
    m = measure(_record(497))
    assert m.pr_ms is not None and m.pr_ms < 220
    assert "1AVB" not in {f.code for f in findings(m)}


def test_biphasic_p_wave_onset_is_before_its_first_half():
    """PTB-XL 182 (1AVB, LAFB; strat_fold 2): a biphasic P wave whose RMS dips to zero between its halves; the onset
    was placed in that notch (PR 172 ms). Its first half starts about 90 ms earlier."""
    m = measure(_record(182))
    assert m.pr_ms is not None and m.pr_ms > 240
