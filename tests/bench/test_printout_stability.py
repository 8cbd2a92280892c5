"""bench/printout_stability.py: beat matching, a clear error without PTB-XL, and a small run on real records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
PTBXL = REPO / ".." / "shared" / "data" / "ptbxl"


@pytest.fixture(scope="module")
def tool(load_bench):
    return load_bench("printout_stability")


def test_beat_errors_match_one_to_one(tool) -> None:
    reference = np.array([100, 600, 1100, 1600])
    found = np.array([105, 590, 598, 1900])  # 598: a second peak on the same beat; 1100 and 1600 missed
    assert tool.beat_errors(reference, found, tolerance=30) == (2, 2)


def test_missing_ptbxl_is_a_clear_error(tool, tmp_path: Path, capsys) -> None:
    assert tool.main(["--ptbxl", str(tmp_path)]) == 2
    assert "PTB-XL not found" in capsys.readouterr().err


@pytest.mark.skipif(not (PTBXL / "ptbxl_database.csv").is_file(), reason=f"PTB-XL not found at {PTBXL}")
def test_small_run_prints_every_measurement(tool, capsys) -> None:
    assert tool.main(["--ptbxl", str(PTBXL), "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "beats of the printout vs the full record" in out
    for label in ("QT (ms)", "QRS (ms)", "PR (ms)", "heart rate (bpm)"):
        assert label in out
