"""Per-lead T ends and the QT confidence: a clean record is measured confidently; leads that disagree on the T end
(a slow sinus record with a late wave in some leads) lower the confidence instead of moving the QT late."""

from __future__ import annotations

import numpy as np

from analyze import measure
from analyze.confidence import ramp
from analyze.simulate import simulate_ecg
from ecg.record import LEADS, EcgRecord


def test_clean_slow_sinus_record_is_measured_confidently():
    m = measure(simulate_ecg(heart_rate_bpm=50, qt_ms=440))
    assert abs(m.qt_ms - 440) <= 30
    assert m.confidence["qt_ms"] >= 0.8


def test_leads_disagreeing_on_the_t_end_lower_the_qt_confidence():
    """A late extra wave (U-like, 0.12 mV, 240 ms, from 400 ms after the QRS onset) in half the leads: their T ends
    run late."""
    record = simulate_ecg(heart_rate_bpm=50, qt_ms=440)
    fs, n = record.fs, record.signals.shape[1]
    t = np.arange(n) / fs
    late = np.zeros(n)
    for on in np.arange(0.45, 10.0, 1.2):  # the simulator's QRS onsets at 50 /min
        inside = (t >= on + 0.40) & (t <= on + 0.64)
        late[inside] = 0.12 * (0.5 - 0.5 * np.cos(2 * np.pi * (t[inside] - on - 0.40) / 0.24))
    signals = record.signals.copy()
    for name in ("V1", "V2", "V3", "V4", "aVL", "I"):
        signals[LEADS.index(name)] += late.astype(np.float32)
    m = measure(EcgRecord(signals, fs, record.meta))
    assert m.confidence["qt_ms"] < 0.5
    assert m.qt_ms < 440 + 150  # not the latest lead's end


def test_implausible_qt_is_capped():
    m = measure(simulate_ecg(heart_rate_bpm=60, qt_ms=400))
    assert m.confidence["qt_ms"] >= 0.8
    assert ramp(10, 25, 70) == 1.0 and ramp(70, 25, 70) == 0.0 and 0 < ramp(50, 25, 70) < 1


def test_leads_ending_far_after_the_median_lead_do_not_move_the_t_end():
    """Eight leads end within 20 ms; four land 200 ms later (a U wave, the next P wave): the T end stays with the
    eight, where the plain 75th percentile would jump by about 200 ms."""
    from analyze.tend import LeadTEnds, combine

    fs = 500.0
    ends = np.array([200, 202, 204, 205, 206, 207, 208, 210, 310, 312, 315, 316], dtype=float)
    lead_ends = LeadTEnds(ends, np.full(12, 150.0), np.full(12, 0.3))
    assert 205 <= combine(lead_ends, fs) <= 210
    assert combine(lead_ends, fs, trim_ms=1e9) >= 290  # without the trim: the late leads' value
