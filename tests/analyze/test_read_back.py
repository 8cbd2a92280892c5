"""Measuring a digitized record (analyze.read_back): unsure leads left out, confidences capped by the read-back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analyze import measure
from analyze.read_back import measure_read_back, trusted_leads
from ecg.errors import EcgInputError
from ecg.io import read_record
from ecg.record import LEADS

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "ptbxl-00001.hea"


@pytest.fixture(scope="module")
def record():
    return read_record(SAMPLE)


def _axis_error(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def test_all_leads_sure_keeps_the_values_and_caps_by_quality(record) -> None:
    plain = measure(record)
    sure = dict.fromkeys(LEADS, 0.95)
    measured, used = measure_read_back(record, sure, quality=0.6, plain=plain)
    assert used == LEADS
    assert measured.qrs_ms == plain.qrs_ms and measured.qrs_axis_deg == plain.qrs_axis_deg
    assert measured.confidence["qrs_ms"] <= 0.6 and measured.confidence["qt_ms"] <= 0.6
    assert measured.confidence["qrs_axis_deg"] == pytest.approx(min(plain.confidence["qrs_axis_deg"], 0.95))
    assert measured.confidence["heart_rate_bpm"] == pytest.approx(min(plain.confidence["heart_rate_bpm"], 0.95))


def test_a_misread_limb_lead_is_left_out_of_the_axis(record) -> None:
    """Lead I traced upside down (a classic misread) moves the plain axis far; left out, the axis stays close."""
    truth = measure(record)
    signals = record.signals.copy()
    signals[LEADS.index("I")] *= -1.0
    signals[LEADS.index("aVL")] *= -1.0
    misread = replace(record, signals=signals)
    plain = measure(misread)
    confidence = {lead: (0.2 if lead in ("I", "aVL") else 0.9) for lead in LEADS}
    measured, used = measure_read_back(misread, confidence, quality=0.9)
    assert "I" not in used and "aVL" not in used and "II" in used
    assert _axis_error(plain.qrs_axis_deg, truth.qrs_axis_deg) > 45  # the misread really moves it
    assert _axis_error(measured.qrs_axis_deg, truth.qrs_axis_deg) < 20
    assert measured.confidence["qrs_axis_deg"] <= 0.9


def test_too_few_sure_leads_measures_everything_at_low_confidence(record) -> None:
    confidence = dict.fromkeys(LEADS, 0.3)
    confidence["V2"] = 0.9
    assert trusted_leads(confidence) == ("V2",)
    measured, used = measure_read_back(record, confidence, quality=0.3)
    assert used == LEADS  # not enough trusted leads to measure from them alone
    assert measured.confidence["qrs_axis_deg"] <= 0.3 and measured.confidence["qrs_ms"] <= 0.3
    assert measured.confidence["heart_rate_bpm"] <= 0.9


def test_unmeasurable_record_raises(record) -> None:
    empty = replace(record, signals=np.zeros_like(record.signals))  # a flat line: no heartbeat to measure
    with pytest.raises(EcgInputError):
        measure_read_back(empty, dict.fromkeys(LEADS, 0.9), quality=0.9)
