"""Shared fixtures: a synthetic 12-lead record with known intervals (built here, nothing downloaded)."""

from __future__ import annotations

import pytest

from analyze import measure
from analyze.simulate import simulate_ecg


@pytest.fixture(scope="session")
def normal_record():
    return simulate_ecg(heart_rate_bpm=60, pr_ms=160, qrs_ms=90, qt_ms=400)


@pytest.fixture(scope="session")
def normal_measurements(normal_record):
    return measure(normal_record)
