"""A small check on real annotated data (LUDB): skipped with a reason when ../shared/data is absent."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from analyze import measure
from ecg.io import read_record

REPO = Path(__file__).resolve().parents[2]
LUDB = REPO / ".." / "shared" / "data" / "ludb"

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def bench():
    if not (LUDB / "data" / "1.hea").exists():
        pytest.skip(f"LUDB not found at {LUDB.resolve()} (shared data absent)")
    spec = importlib.util.spec_from_file_location("measure_ludb", REPO / "bench" / "measure_ludb.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_first_ten_records_close_to_the_cardiologists(bench):
    """Records 1–10 except paced record 8: mean absolute errors well inside a clinical tolerance; R peaks exact."""
    errors = {"pr": [], "qrs": [], "qt": []}
    for rid in (1, 2, 3, 4, 5, 6, 7, 9, 10):
        path = LUDB / "data" / str(rid)
        ref = bench.reference(path)
        m = measure(read_record(path.with_suffix(".hea")))
        errors["pr"].append(m.pr_ms - ref.pr)
        errors["qrs"].append(m.qrs_ms - ref.qrs)
        errors["qt"].append(m.qt_ms - ref.qt)
        peaks = np.array(m.r_peaks)
        peaks = peaks[(peaks >= ref.span[0]) & (peaks <= ref.span[1])]
        tp, fp, fn = bench.match_peaks(peaks, ref.qrs_peaks, int(0.05 * m.fs))
        assert (fp, fn) == (0, 0), f"record {rid}: {fp} false and {fn} missed R peaks"
    mean_abs = {k: float(np.mean(np.abs(v))) for k, v in errors.items()}
    assert mean_abs["pr"] <= 15 and mean_abs["qrs"] <= 20 and mean_abs["qt"] <= 40, mean_abs


def test_atrial_fibrillation_record_has_no_pr(bench):
    m = measure(read_record(LUDB / "data" / "38.hea"))  # LUDB 38: atrial fibrillation
    assert m.rr_irregularity > 0.08
    assert m.pr_ms is None or (m.p_wave_consistency or 0) < 0.5
