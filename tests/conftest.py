"""Shared fixtures: paths to the bundled samples and to ../shared/data (tests using it skip when it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the repository; skips the test when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared data folder {SHARED_DATA} (not present on this machine)")
    return SHARED_DATA


@pytest.fixture
def sample_record_path() -> Path:
    """A bundled 10 s 12-lead PTB-XL record (normal ECG), WFDB format."""
    return SAMPLES / "ptbxl-00001.hea"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
