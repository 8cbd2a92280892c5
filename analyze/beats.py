"""Beats: cleaning, R peaks by consensus of the long leads, dominant-beat selection and median beats per lead.

Clinical measurement programs measure intervals on a representative (median) beat per lead, with every lead aligned
on the same QRS fiducials (AHA/ACC/HRS 2007, Kligfield et al., Circulation 115:1306). Here the QRS fiducials come
from the *long* leads (the rhythm strip of a 3×4 printout, or all twelve leads of a full record): NeuroKit2 finds R
peaks in each long lead, peaks found by at least half of them are kept, and each beat is then aligned on the peak of
the multi-lead QRS slope energy and refined by cross-correlation with a first template. Median beats are built by our
own epoching, so 2.5 s lead blocks (too short for ``nk.ecg_segment``, which refuses < 4 s) get a median beat from the
beats that fall inside them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import neurokit2 as nk
import numpy as np

from analyze.errors import NoLongLeadError, RecordTooShortError
from ecg.record import LEADS, EcgRecord, finite_runs

MIN_RHYTHM_S = 4.0
"""A lead must be recorded continuously for at least this long (s) to give R peaks and RR intervals."""

MIN_BLOCK_S = 0.6
"""Shorter recorded runs of a lead are ignored (they cannot hold one beat with its P and T waves)."""

EPOCH_PRE_S, EPOCH_POST_S = 0.5, 0.8
"""Median-beat window around the QRS fiducial (s): long enough for a PR of 400 ms and a QT of 650 ms."""

NEIGHBOUR_GUARD_S = 0.06
"""A median-beat epoch stops this long (s) before the next beat's QRS fiducial and starts this long after the
previous one's."""

CONSENSUS_WINDOW_S = 0.1
"""R peaks of different leads closer than this (s) are the same beat."""

PANEL_VOTE_BELOW = 3
"""With fewer long leads than this (a 3×4 printout's one to three rhythm strips), the short panels vote on the beats
too: a single rhythm lead's detector misses low-amplitude QRS complexes or counts tall T waves as beats."""

PANEL_MIN_RUN_S = 1.5
"""A short run must be at least this long (s) to propose beats."""

PANEL_EDGE_S = 0.5
"""A panel votes only this far (s) inside its ends: NeuroKit2's detector misses the first beat of a short segment."""

DOMINANT_MIN_CORRELATION = 0.9
"""A beat whose multi-lead QRS correlates less than this with the template is left out of the median beat."""


@dataclass(frozen=True)
class Beats:
    """Beats of a record, located on the long leads.

    Attributes
    ----------
    r_peaks : ndarray of int
        QRS fiducial of every detected beat (sample index in the record): the peak of the multi-lead QRS slope
        energy, close to the R peak of the dominant leads.
    dominant : ndarray of bool
        Beats whose QRS matches the template (used for the median beats); ectopic or noisy beats are ``False``.
    rhythm_leads : tuple of str
        The long leads the peaks were detected on.
    contested : int
        Peaks that two or more leads found but the vote rejected (3×4 printouts only): the leads disagree on how
        many beats there are, so the rate is less certain.
    """

    r_peaks: np.ndarray
    dominant: np.ndarray
    rhythm_leads: tuple[str, ...]
    contested: int = 0


@dataclass(frozen=True)
class MedianBeats:
    """Median beat of every lead, aligned on the same QRS fiducial.

    Attributes
    ----------
    waves : ndarray, shape (12, n)
        Millivolts, rows in :data:`ecg.record.LEADS` order; ``NaN`` where a lead has no beat covering that sample.
    r_index : int
        Index of the QRS fiducial in ``waves``.
    fs : float
        Sampling rate (Hz).
    n_beats : ndarray of int, shape (12,)
        Number of beats that went into each lead's median beat (0 when the lead is absent).
    """

    waves: np.ndarray
    r_index: int
    fs: float
    n_beats: np.ndarray
    coverage: np.ndarray | None = None
    """Share (0–1) of the beats that contribute to each sample (an epoch stops at its neighbours' QRS); ``None``:
    every beat everywhere."""

    def supported_until(self, start: int, share: float = 0.6) -> int:
        """Last index from ``start`` on up to which at least ``share`` of the beats contribute to the median."""
        if self.coverage is None:
            return self.waves.shape[1] - 1
        short = np.flatnonzero(self.coverage[start:] < share)
        return start + int(short[0]) - 1 if len(short) else self.waves.shape[1] - 1

    def present(self, index: int, start: int, stop: int) -> bool:
        """Whether lead ``index`` has a value at every sample of ``[start, stop)``."""
        start, stop = max(0, start), min(self.waves.shape[1], stop)
        return stop > start and bool(np.isfinite(self.waves[index, start:stop]).all())


def clean_signals(record: EcgRecord, *, powerline: bool = True) -> np.ndarray:
    """NeuroKit2 cleaning of every recorded run of every lead.

    With ``powerline=True`` this is ``nk.ecg_clean`` (0.5 Hz Butterworth high-pass, then NeuroKit2's power-line
    filter, a 20 ms moving average): the signal beats are found and delineated on. With ``powerline=False`` only the
    high-pass is applied, which keeps the sharp R and S peaks at their full amplitude for the amplitude and axis
    measurements. Returns an array shaped like ``record.signals``, ``NaN`` where the lead is not recorded or its run
    is shorter than :data:`MIN_BLOCK_S`.
    """
    out = np.full(record.signals.shape, np.nan)
    min_len = int(MIN_BLOCK_S * record.fs)
    for i, row in enumerate(record.signals):
        for start, stop in finite_runs(row):
            if stop - start >= min_len:
                seg = row[start:stop].astype(np.float64)
                if powerline:
                    out[i, start:stop] = nk.ecg_clean(seg, sampling_rate=record.fs)
                else:
                    out[i, start:stop] = nk.signal_filter(seg, sampling_rate=record.fs, lowcut=0.5,
                                                          method="butterworth", order=5)
    return out


def rhythm_leads(record: EcgRecord, clean: np.ndarray) -> list[int]:
    """Indices of the long leads (a run of at least :data:`MIN_RHYTHM_S`, or ≥ 90 % of the record).

    Raises
    ------
    RecordTooShortError
        When the record itself is shorter than :data:`MIN_RHYTHM_S`.
    NoLongLeadError
        When no lead is recorded long enough.
    """
    if record.duration_s < MIN_RHYTHM_S:
        raise RecordTooShortError(
            f"record is {record.duration_s:.1f} s long; at least {MIN_RHYTHM_S:g} s of a lead is needed to measure"
        )
    longest = np.array([max((b - a for a, b in finite_runs(row)), default=0) for row in clean]) / record.fs
    needed = min(MIN_RHYTHM_S, 0.9 * record.duration_s)
    leads = [i for i in range(len(LEADS)) if longest[i] >= max(needed, MIN_RHYTHM_S)]
    if not leads:
        best = int(np.argmax(longest))
        raise NoLongLeadError(
            f"no lead is recorded for at least {MIN_RHYTHM_S:g} s (longest: {LEADS[best]}, {longest[best]:.1f} s); "
            "a rhythm strip is needed to find the beats"
        )
    return leads


def detect_beats(clean: np.ndarray, fs: float, leads: list[int]) -> Beats:
    """R peaks by consensus of the leads, aligned on the multi-lead QRS energy of the long leads.

    With :data:`PANEL_VOTE_BELOW` or more long leads, a beat needs the peaks of at least half of them. With fewer
    (a 3×4 printout), the short panels vote too (:func:`_panel_consensus`).

    Parameters
    ----------
    clean : ndarray, shape (12, n)
        Cleaned signals (:func:`clean_signals`).
    fs : float
        Sampling rate (Hz).
    leads : list of int
        Long leads (:func:`rhythm_leads`): beats are aligned and classified on these.
    """
    energy = _qrs_energy(clean, fs, leads)
    contested = 0
    if len(leads) >= PANEL_VOTE_BELOW:
        votes = [(i, _lead_peaks(clean[i, start:stop], fs) + start)
                 for i in leads for start, stop in [_longest_run(clean[i])]]
        needed = max(1, int(np.ceil(len(leads) / 2)))
        fiducials = _consensus(votes, fs, energy, lambda voters, centre: len(voters) >= needed)
    else:
        fiducials, contested = _panel_consensus(clean, fs, leads, energy)
    fiducials = _refine(fiducials, clean, fs, leads)
    dominant = _dominant(fiducials, clean, fs, leads)
    return Beats(np.asarray(fiducials, dtype=int), dominant, tuple(LEADS[i] for i in leads), contested)


def median_beats(clean: np.ndarray, fs: float, beats: Beats) -> MedianBeats:
    """Median beat per lead over the dominant beats that the lead's recorded runs cover (partly covered allowed);
    each beat contributes only between its neighbours' QRS complexes."""
    pre, post = int(EPOCH_PRE_S * fs), int(EPOCH_POST_S * fs)
    peaks = beats.r_peaks[beats.dominant] if beats.dominant.sum() >= 1 else beats.r_peaks
    n = clean.shape[1]
    epochs = np.full((len(peaks), clean.shape[0], pre + post), np.nan)
    every = np.sort(beats.r_peaks)
    guard = int(NEIGHBOUR_GUARD_S * fs)
    for k, r in enumerate(peaks):
        a, b = r - pre, r + post
        # an epoch stops before the next beat's QRS and starts after the previous one's (any beat, ectopic too),
        # so a premature beat inside the window does not distort the median T wave
        later = every[every > r]
        earlier = every[every < r]
        if len(later):
            b = min(b, int(later[0]) - guard)
        if len(earlier):
            a_clip = int(earlier[-1]) + guard
        else:
            a_clip = a
        sa, sb = max(0, a, a_clip), min(n, b)
        if sb > sa:
            epochs[k, :, sa - a : sb - a] = clean[:, sa:sb]
    # a beat counts for a lead only when its QRS (±60 ms) is recorded in that lead
    qrs = slice(pre - int(0.06 * fs), pre + int(0.06 * fs))
    has_qrs = np.isfinite(epochs[:, :, qrs]).all(axis=2)
    epochs[~has_qrs] = np.nan
    n_beats = has_qrs.sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are expected (absent leads, edges)
        waves = np.nanmedian(epochs, axis=0) if len(peaks) else np.full((clean.shape[0], pre + post), np.nan)
    coverage = np.isfinite(epochs).any(axis=1).mean(axis=0) if len(peaks) else None
    return MedianBeats(waves, pre, fs, n_beats.astype(int), coverage)


def rr_intervals(beats: Beats, fs: float) -> np.ndarray:
    """RR intervals (s) between consecutive detected beats."""
    return np.diff(beats.r_peaks) / fs


# --- internals ------------------------------------------------------------------------------------------------
def _longest_run(row: np.ndarray) -> tuple[int, int]:
    return max(finite_runs(row), key=lambda run: run[1] - run[0])


def _lead_peaks(signal: np.ndarray, fs: float) -> np.ndarray:
    """NeuroKit2 R peaks of one lead (its default detector, explicit sampling rate)."""
    _, info = nk.ecg_peaks(signal, sampling_rate=fs, method="neurokit", correct_artifacts=False)
    return np.asarray(info["ECG_R_Peaks"], dtype=int)


def _qrs_energy(clean: np.ndarray, fs: float, leads: list[int]) -> np.ndarray:
    """Sum over leads of the squared slope, each lead scaled by its robust slope range, smoothed over 20 ms."""
    total = np.zeros(clean.shape[1])
    for i in leads:
        slope = np.gradient(np.nan_to_num(clean[i]))
        scale = np.percentile(np.abs(slope), 99) or 1.0
        total += (slope / scale) ** 2
    width = max(1, int(0.02 * fs))
    return np.convolve(total, np.ones(width) / width, mode="same")


def _consensus(
    votes: list[tuple[int, np.ndarray]], fs: float, energy: np.ndarray, accept: Callable[[set[int], int], bool]
) -> list[int]:
    """Cluster the leads' R peaks (``votes``: lead index, peak positions) within :data:`CONSENSUS_WINDOW_S`; keep
    the clusters ``accept(voting leads, centre)`` admits; place each on the energy peak (200 ms refractory)."""
    tagged = sorted((int(p), lead) for lead, found in votes for p in found)
    if not tagged:
        return []
    window = int(CONSENSUS_WINDOW_S * fs)
    clusters, current = [], [tagged[0]]
    for item in tagged[1:]:
        if item[0] - current[0][0] <= window:
            current.append(item)
        else:
            clusters.append(current)
            current = [item]
    clusters.append(current)
    half = int(0.06 * fs)
    out: list[int] = []
    for cluster in clusters:
        centre = int(np.median([p for p, _ in cluster]))
        if not accept({lead for _, lead in cluster}, centre):
            continue
        a, b = max(0, centre - half), min(len(energy), centre + half + 1)
        position = a + int(np.argmax(energy[a:b]))
        if out and position - out[-1] < int(0.2 * fs):  # refractory period: keep the stronger beat
            if energy[position] > energy[out[-1]]:
                out[-1] = position
            continue
        out.append(position)
    return out


def _panel_consensus(clean: np.ndarray, fs: float, leads: list[int], energy: np.ndarray) -> tuple[list[int], int]:
    """Beats of a record with few long leads, voted on by the long leads and every panel (a run of at least
    :data:`PANEL_MIN_RUN_S`).

    A panel *covers* a beat only :data:`PANEL_EDGE_S` inside its ends (the detector misses the first beat of a
    short segment), though its peaks near the ends still vote. A beat a long lead found is kept unless two or more
    panels cover it and none of the panels found it (a T wave counted as a beat); a beat no long lead found needs a
    strict majority of the leads covering it, two of them panels covering it. Returns the beats and the number of
    rejected candidates that two or more leads found (:attr:`Beats.contested`).
    """
    edge, shortest = int(PANEL_EDGE_S * fs), int(PANEL_MIN_RUN_S * fs)
    inside = np.zeros(clean.shape, dtype=bool)  # where each panel covers a beat
    votes = []
    for i in range(clean.shape[0]):
        for start, stop in finite_runs(clean[i]):
            if i in leads or stop - start >= shortest:
                votes.append((i, _lead_peaks(clean[i, start:stop], fs) + start))
                if i not in leads:
                    inside[i, start + edge : stop - edge] = True
    long = set(leads)

    contested = 0

    def accept(voters: set[int], centre: int) -> bool:
        nonlocal contested
        covering = int(inside[:, centre].sum())
        if voters & long:
            kept = len(voters - long) >= 1 or covering < 2
        else:
            voting_inside = sum(1 for lead in voters if inside[lead, centre])
            kept = voting_inside >= 2 and len(voters) > (covering + len(long)) / 2
        contested += int(not kept and len(voters) >= 2)
        return kept

    return _consensus(votes, fs, energy, accept), contested


def _stack(clean: np.ndarray, leads: list[int], centre: int, half: int) -> np.ndarray | None:
    a, b = centre - half, centre + half
    if a < 0 or b > clean.shape[1]:
        return None
    seg = clean[leads, a:b]
    return None if not np.isfinite(seg).all() else seg


def _refine(fiducials: list[int], clean: np.ndarray, fs: float, leads: list[int]) -> list[int]:
    """Shift each beat (±20 ms) to best match the multi-lead median QRS of all beats."""
    half, shift = int(0.08 * fs), int(0.02 * fs)
    segments = [_stack(clean, leads, r, half) for r in fiducials]
    valid = [s for s in segments if s is not None]
    if len(valid) < 2:
        return fiducials
    template = np.median(np.stack(valid), axis=0)
    template = template - template.mean(axis=1, keepdims=True)
    out = []
    for r in fiducials:
        best, best_score = r, -np.inf
        for s in range(-shift, shift + 1):
            seg = _stack(clean, leads, r + s, half)
            if seg is None:
                continue
            score = float(np.sum((seg - seg.mean(axis=1, keepdims=True)) * template))
            if score > best_score:
                best, best_score = r + s, score
        out.append(best)
    return out


def _dominant(fiducials: list[int], clean: np.ndarray, fs: float, leads: list[int]) -> np.ndarray:
    """Beats whose multi-lead QRS correlates with the median QRS at least :data:`DOMINANT_MIN_CORRELATION`."""
    half = int(0.06 * fs)
    segments = [_stack(clean, leads, r, half) for r in fiducials]
    valid = [s for s in segments if s is not None]
    if len(valid) < 3:
        return np.ones(len(fiducials), dtype=bool)
    template = np.median(np.stack(valid), axis=0).ravel()
    keep = np.ones(len(fiducials), dtype=bool)
    for k, seg in enumerate(segments):
        if seg is not None:
            keep[k] = np.corrcoef(seg.ravel(), template)[0, 1] >= DOMINANT_MIN_CORRELATION
    if keep.sum() < max(2, len(fiducials) // 3):  # no dominant morphology: use every beat
        keep[:] = True
    return keep
