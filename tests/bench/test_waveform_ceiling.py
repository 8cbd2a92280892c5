"""bench/waveform_ceiling.py: the specificity at a sensitivity, and clear errors for bad arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def tool(load_bench):
    return load_bench("waveform_ceiling")


def test_specificity_at_sensitivity(tool) -> None:
    y = np.array([1] * 10 + [0] * 10)
    score = np.r_[np.linspace(0.5, 1.0, 10), np.linspace(0.0, 0.6, 10)]
    # 90 % sensitivity keeps the 9 highest positives: threshold 0.556, so the 9 negatives below it are specific
    assert tool.specificity_at(y, score) == pytest.approx(0.9)
    assert tool.specificity_at(y, np.r_[np.ones(10), np.zeros(10)]) == 1.0


def test_bad_set_argument_is_a_clear_error(tool, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        tool.main(["--set", f"{tmp_path / 'missing.jsonl'}={tmp_path}"])
    assert exc.value.code == 2 and "CACHE=FOLDER" in capsys.readouterr().err
