"""Beat detection on a 3×4 printout: the panels vote with the rhythm strip (analyze.beats._panel_consensus).

The detector is replaced by fixed peak lists, so the voting rules are checked without NeuroKit2's behaviour; one
real PTB-XL record (skipped when ../shared/data is absent) checks the whole path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import analyze.beats as beats
from ecg.record import LEADS, EcgRecord

FS = 500.0
N = 5000


def _printout() -> np.ndarray:
    """Finite where a 3×4+1 printout shows each lead (II the 10 s rhythm strip), NaN elsewhere."""
    clean = np.full((12, N), np.nan)
    columns = (("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"))
    for c, names in enumerate(columns):
        for name in names:
            clean[LEADS.index(name), c * 1250 : (c + 1) * 1250] = 0.0
    clean[LEADS.index("II")] = 0.0
    return clean


def _detect(monkeypatch, peaks: dict[str, list[int]]) -> list[int]:
    """Beats found when lead ``name``'s detector returns ``peaks[name]`` (record positions) on its run."""
    return _vote(monkeypatch, peaks)[0]


def _vote(monkeypatch, peaks: dict[str, list[int]]) -> tuple[list[int], int]:
    """(beats, contested candidates) of :func:`_detect`'s set-up."""
    clean = _printout()
    for i in range(12):  # each row holds its lead number + 1, so the fake detector knows which lead it was given
        clean[i][np.isfinite(clean[i])] = i + 1

    def fake_peaks(segment: np.ndarray, fs: float) -> np.ndarray:
        row = int(segment[0]) - 1
        start = int(np.flatnonzero(np.isfinite(clean[row]))[0])
        return np.array([p - start for p in peaks.get(LEADS[row], []) if start <= p < start + len(segment)], dtype=int)

    monkeypatch.setattr(beats, "_lead_peaks", fake_peaks)
    return beats._panel_consensus(clean, FS, [LEADS.index("II")], np.ones(N))


def test_rhythm_strip_peak_that_no_covering_panel_confirms_is_dropped(monkeypatch):
    # 1500 and 2000: QRS complexes seen by II and the middle column; 1750: a tall T wave II alone counts
    found = _detect(monkeypatch, {"II": [1500, 1750, 2000], "aVR": [1500, 2000], "aVL": [1500, 2000],
                                  "aVF": [1500, 2000]})
    assert len(found) == 2
    assert all(abs(f - p) <= 30 for f, p in zip(found, [1500, 2000], strict=True))


def test_beat_the_rhythm_strip_misses_is_added_when_the_panels_agree(monkeypatch):
    found = _detect(monkeypatch, {"II": [3000], "V1": [3000, 3300], "V2": [3000, 3300], "V3": [3305]})
    assert len(found) == 2 and abs(found[1] - 3300) <= 30


def test_panel_peaks_at_a_panel_start_do_not_make_a_beat(monkeypatch):
    # 2560: two panels' detectors fire 60 ms after their segment starts (the detector's start-up); II saw nothing
    found = _detect(monkeypatch, {"II": [3000], "V1": [2560, 3000], "V2": [2560, 3000], "V3": [3000]})
    assert len(found) == 1


def test_candidates_two_leads_found_but_the_vote_rejected_are_counted(monkeypatch):
    # 3300: V1 and V2 find a beat that V3 and the strip do not (2 of 4 covering leads): rejected and contested;
    # 3600: V1 alone — rejected, not contested
    found, contested = _vote(monkeypatch, {"II": [3000], "V1": [3000, 3300, 3600], "V2": [3000, 3300],
                                           "V3": [3000]})
    assert len(found) == 1
    assert contested == 1


def test_contested_beats_lower_the_rate_confidence():
    from analyze.beats import Beats, MedianBeats
    from analyze.confidence import confidences

    median = MedianBeats(np.zeros((12, 650)), 250, FS, np.full(12, 10))

    def rate_confidence(contested: int) -> float:
        beats = Beats(np.arange(12) * 500 + 250, np.ones(12, dtype=bool), ("II",), contested)
        return confidences({"heart_rate_bpm": 60.0}, beats, median, None, 1.0, None)["heart_rate_bpm"]

    assert rate_confidence(0) == 1.0
    assert rate_confidence(1) == 1.0  # one in twelve: within the tolerance
    assert rate_confidence(3) < 0.8
    assert rate_confidence(6) == 0.0


def test_rhythm_strip_beat_near_a_column_boundary_is_kept(monkeypatch):
    # 2740: II and the third column's panels (just after their start) agree
    found = _detect(monkeypatch, {"II": [2300, 2740, 3200], "V1": [2735, 3200], "V2": [2738, 3200],
                                  "V3": [2745, 3200], "aVR": [2300], "aVL": [2300], "aVF": [2300]})
    assert len(found) == 3


PTBXL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ptbxl"


@pytest.mark.skipif(not (PTBXL / "ptbxl_database.csv").is_file(), reason=f"PTB-XL not found at {PTBXL}")
def test_printed_record_counts_the_beats_of_the_full_record():
    """PTB-XL 446 (normal ECG): NeuroKit2 counts 17 beats on lead II alone (its T waves); the full record has 10."""
    from ecg.io import read_record

    record = read_record(PTBXL / "records500" / "00000" / "00446_hr.hea", fs=500.0)
    mask = np.isfinite(_printout())
    printed = EcgRecord(np.where(mask, record.signals, np.nan).astype(np.float32), record.fs, record.meta)
    full = beats.detect_beats(beats.clean_signals(record), FS, list(range(12)))
    clean = beats.clean_signals(printed)
    found = beats.detect_beats(clean, FS, beats.rhythm_leads(printed, clean))
    assert len(full.r_peaks) == 10
    assert abs(len(found.r_peaks) - len(full.r_peaks)) <= 1
