"""Global fiducial points (P onset, QRS onset and offset, T end) on the median beats.

Two families of methods, chosen with ``method=``:

``"spatial"`` (default)
    Our own multi-lead delineation. The QRS is where the *spatial velocity* of the median beats (Euclidean norm of
    the slopes of the independent leads I, II, V1–V6, in mV/s) exceeds an absolute slope (4 mV/s) or three times
    its quiet PR / ST level, extended to the foot of that slope; the T wave ends where the smoothed spatial velocity
    of its descending limb falls back near its floor; the P wave is the highest maximum of the root-mean-square
    amplitude between the previous T wave and the QRS, its onset where that curve leaves its pre-P level. One
    spatial curve measures all leads at once, so the result is the *global* onset and offset asked for by
    AHA/ACC/HRS (Kligfield et al. 2007, Circulation 115:1306) without the outlier risk of taking the minimum over
    twelve separate delineations. Thresholds were chosen on LUDB records 1–100 (``bench/measure_ludb.py``, which
    also prints odd and even records apart to show they agree).
``"dwt"``, ``"cwt"``, ``"peak"``, ``"prominence"``
    NeuroKit2 ``ecg_delineate`` per lead, run on the lead's median beat tiled into a periodic signal (so that 2.5 s
    blocks and records with few beats still have enough beats), then the earliest onset and latest offset across
    leads — after dropping the single most extreme lead (see :mod:`analyze.delineate_nk`).

All positions are sample indices into :attr:`analyze.beats.MedianBeats.waves`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
from scipy.signal import find_peaks

from analyze.beats import MedianBeats
from analyze.tend import combine, lead_spread_ms, lead_t_ends
from ecg.record import LEADS

Method = Literal["spatial", "dwt", "cwt", "peak", "prominence"]
METHODS: tuple[str, ...] = get_args(Method)

INDEPENDENT_LEADS = tuple(LEADS.index(name) for name in ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6"))
"""The eight linearly independent leads; III, aVR, aVL and aVF are combinations of I and II."""

# thresholds of the spatial method (chosen on LUDB with bench/measure_ludb.py; odd and even records agree)
QRS_SLOPE_MV_S = 4.0
"""The QRS starts / ends where the spatial velocity crosses this (mV/s) ..."""
QUIET_FACTOR = 3.0
"""... or this multiple of its quiet PR (before) / ST (after) level, whichever is higher (noisy records)."""
FOOT_MAX_S, FOOT_SMOOTH_S = 0.010, 0.010
"""From the threshold crossing, walk on while the (10 ms smoothed) curve keeps falling, at most 10 ms: the foot."""
T_END_FRACTION = 0.15
"""The T wave ends where its smoothed spatial velocity falls within this fraction of its descent above the floor."""
T_PEAK_LIMIT_S, T_PEAK_LIMIT_RR = 0.55, 0.6
T_END_LIMIT_S, T_END_LIMIT_RR = 0.75, 0.8
"""The T peak is searched up to min(0.55 s, 0.6 RR) after the R peak, its end up to min(0.75 s, 0.8 RR)."""
P_ONSET_FRACTION = 0.15
"""The P wave starts where its RMS amplitude rises above this fraction of its height over the pre-P level."""
P_SEARCH_S = 0.40
"""The P wave is searched at most this long (s) before the QRS onset."""
P_FOOT_MAX_S = 0.02
"""From the P onset's threshold crossing, walk on to the foot at most this long (s)."""
P_RISE_MAX_S = 0.10
"""The P onset is searched at most this long (s) before the P peak (LUDB 1–100: the annotated P onset lies
at most 104 ms, 98th percentile 99 ms, before our P peak; on PTB-XL folds 1–8 a 150 ms reach put fast sinus P
onsets on the previous T wave, 6 false first-degree blocks, 2 at 100 ms)."""
QUIET_RUN_S = 0.006
"""A wave starts / ends only where the curve stays beyond its threshold for at least this long (s)."""

P_MIN_AMPLITUDE_MV = 0.01
"""Below this root-mean-square amplitude (mV) above its surroundings, no P wave is reported."""


@dataclass(frozen=True)
class Fiducials:
    """Global fiducial points on the median beats (sample indices, ``None`` when not found).

    ``missing`` gives, for each point that is ``None``, the reason in a few words.
    """

    p_on: int | None = None
    p_peak: int | None = None
    p_off: int | None = None
    qrs_on: int | None = None
    qrs_off: int | None = None
    t_peak: int | None = None
    t_off: int | None = None
    missing: dict[str, str] = field(default_factory=dict)
    quality: dict[str, float] = field(default_factory=dict)
    """Diagnostics the confidence rests on: ``t_leads`` (leads with a usable T wave), ``t_spread_ms`` (IQR of the
    per-lead T ends), ``t_methods_ms`` (per-lead T end − spatial T end), ``p_height_mv`` (P wave above its floor)."""


def delineate(median: MedianBeats, rr_s: float, *, method: Method = "spatial") -> Fiducials:
    """Global P onset, QRS onset and offset and T end on the median beats.

    Parameters
    ----------
    median : MedianBeats
        Median beat per lead (:func:`analyze.beats.median_beats`).
    rr_s : float
        Median RR interval (s); bounds the search for the T end and the P wave.
    method : {"spatial", "dwt", "cwt", "peak", "prominence"}
        See the module docstring.
    """
    if method == "spatial":
        fid = _spatial_impl(median, rr_s)
    elif method in ("dwt", "cwt", "peak", "prominence"):
        from analyze.delineate_nk import neurokit_fiducials

        fid = neurokit_fiducials(median, rr_s, method=method)
    else:
        raise ValueError(f"unknown delineation method {method!r}; valid methods are: {', '.join(METHODS)}")
    return enforce_order(fid, median.fs)


def enforce_order(fid: Fiducials, fs: float) -> Fiducials:
    """Drop points that break the physiological order P on < P peak < QRS on < QRS off < T peak < T off.

    Also drops a QRS shorter than 40 ms or longer than 250 ms and a PR interval shorter than 50 ms: such values are
    delineation failures, not physiology.
    """
    values = {k: getattr(fid, k) for k in ("p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_off")}
    missing = dict(fid.missing)

    def drop(name: str, reason: str) -> None:
        if values[name] is not None:
            values[name] = None
            missing[name] = reason

    on, off = values["qrs_on"], values["qrs_off"]
    if on is not None and off is not None and not (0.04 * fs <= off - on <= 0.25 * fs):
        drop("qrs_on", "QRS width out of range")
        drop("qrs_off", "QRS width out of range")
    order = ["p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_off"]
    for k, name in enumerate(order):
        for later in order[k + 1 :]:
            if values[name] is not None and values[later] is not None and values[name] >= values[later]:
                drop(name if name.startswith(("p", "t")) else later, f"out of order with {later}")
    if values["p_on"] is not None and values["qrs_on"] is not None and values["qrs_on"] - values["p_on"] < 0.05 * fs:
        drop("p_on", "P onset too close to QRS onset")
    return Fiducials(**values, missing=missing, quality=dict(fid.quality))


# --- the spatial method ---------------------------------------------------------------------------------------
def _spatial_impl(median: MedianBeats, rr_s: float) -> Fiducials:
    fs, r = median.fs, median.r_index
    ms = lambda seconds: int(round(seconds * fs))  # noqa: E731
    missing: dict[str, str] = {}
    leads = _leads_covering(median, r - ms(0.25), r + ms(0.25))
    if not leads:
        return Fiducials(missing={k: "no lead covers the QRS" for k in ("p_on", "qrs_on", "qrs_off", "t_off")})
    waves = median.waves
    velocity = _spatial_velocity(waves[leads], fs)

    # QRS: peak of the spatial velocity near the fiducial; quiet points before (PR) and after (ST) bound the search
    peak = r - ms(0.05) + int(np.nanargmax(velocity[r - ms(0.05) : r + ms(0.05)]))
    top = velocity[peak]
    quiet_on, level_on = _quietest(velocity, r - ms(0.25), r - ms(0.04), ms(0.02))
    quiet_off, level_off = _quietest(velocity, r + ms(0.04), r + ms(0.30), ms(0.02))
    qrs_on = _crossing(velocity, peak, max(QRS_SLOPE_MV_S, QUIET_FACTOR * level_on), -1, ms(QUIET_RUN_S),
                       limit=quiet_on)
    last_high = _last_above(velocity, r, r + ms(0.2), level_off + 0.5 * (top - level_off)) or peak
    qrs_off = _crossing(velocity, last_high, max(QRS_SLOPE_MV_S, QUIET_FACTOR * level_off), +1, ms(QUIET_RUN_S),
                        limit=quiet_off)
    if qrs_on is not None:
        qrs_on = _foot(velocity, qrs_on, -1, ms(FOOT_MAX_S), ms(FOOT_SMOOTH_S))
    if qrs_off is not None:
        qrs_off = _foot(velocity, qrs_off, +1, ms(FOOT_MAX_S), ms(FOOT_SMOOTH_S))
    if qrs_on is None:
        missing["qrs_on"] = "QRS onset not found"
    if qrs_off is None:
        missing["qrs_off"] = "QRS end not found"

    quality: dict[str, float] = {}
    t_peak, spatial_off = _t_wave(median, qrs_off, rr_s)
    ends = lead_t_ends(median, qrs_on, qrs_off, rr_s) if qrs_on is not None and qrs_off is not None else None
    combined = combine(ends, fs) if ends is not None else None
    # the P wave is searched after the previous beat's T wave, taken at the earlier of the two T ends: at fast
    # rates a lead's T end can run into the next P wave, and a late bound would leave no room for the P wave
    earliest = min((x for x in (spatial_off, combined) if x is not None), default=None)
    p_on, p_peak = (None, None) if qrs_on is None else _p_wave(median, qrs_on, earliest, rr_s, quality)
    if p_on is None:
        missing["p_on"] = "no P wave found" if qrs_on is not None else "QRS onset not found"
    t_off = spatial_off
    if ends is not None:  # per-lead T ends, combined robustly, replace the spatial one
        next_p = p_on + ms(rr_s) if p_on is not None else None
        if combined is not None and next_p is not None and combined > next_p:
            # the T end is searched only before the next beat's P onset (the median beat runs into it)
            ends = lead_t_ends(median, qrs_on, qrs_off, rr_s, limit=next_p)
            combined = combine(ends, fs)
            quality["t_before_next_p"] = 1.0
        quality["t_leads"] = float(ends.reliable.sum())
        if combined is not None:
            quality["t_spread_ms"] = lead_spread_ms(ends, fs) or 0.0
            if spatial_off is not None:
                quality["t_methods_ms"] = (combined - spatial_off) * 1000.0 / fs
            t_off = combined
            t_peak = int(np.nanmedian(ends.t_peak))  # the same leads' T peaks, before their combined end
    if t_off is None:
        missing["t_off"] = "T wave end not found"
    return Fiducials(p_on, p_peak, None, qrs_on, qrs_off, t_peak, t_off, missing, quality)


def _t_wave(median: MedianBeats, qrs_off: int | None, rr_s: float) -> tuple[int | None, int | None]:
    """T peak (max RMS amplitude after the QRS) and T end (spatial velocity back to its level after the T wave)."""
    fs, r = median.fs, median.r_index
    ms = lambda seconds: int(round(seconds * fs))  # noqa: E731
    start = (qrs_off if qrs_off is not None else r + ms(0.06)) + ms(0.06)
    stop = min(median.waves.shape[1] - ms(0.05), r + ms(min(T_PEAK_LIMIT_S, T_PEAK_LIMIT_RR * rr_s)))
    end_limit = min(median.waves.shape[1] - 1, r + ms(min(T_END_LIMIT_S, T_END_LIMIT_RR * rr_s)),
                    median.supported_until(r))
    leads = _leads_covering(median, r - ms(0.05), end_limit)
    if not leads or stop - start < ms(0.05) or end_limit <= stop:
        return None, None
    level = _isoelectric(median, leads, qrs_off or r)
    smooth = _moving_average(median.waves[leads] - level[:, None], ms(0.04))
    rms = np.sqrt(np.mean(smooth**2, axis=0))
    t_peak = start + int(np.argmax(rms[start:stop]))
    velocity = _moving_average(_spatial_velocity(median.waves[leads], fs)[None], ms(0.04))[0]
    descent = t_peak + int(np.argmax(velocity[t_peak : min(end_limit, t_peak + ms(0.15))]))
    floor = float(np.min(velocity[descent:end_limit]))
    threshold = floor + T_END_FRACTION * (velocity[descent] - floor)
    t_off = _crossing(velocity, descent, threshold, +1, ms(QUIET_RUN_S), limit=end_limit)
    return t_peak, t_off


def _p_wave(
    median: MedianBeats, qrs_on: int, t_off: int | None, rr_s: float, quality: dict[str, float] | None = None
) -> tuple[int | None, int | None]:
    """P peak (highest interior maximum of the RMS amplitude before the QRS) and P onset (RMS leaves its pre-P level).

    The search starts after the previous beat's T wave (this beat's T end minus one RR) and at most
    :data:`P_SEARCH_S` before the QRS onset.
    """
    fs = median.fs
    ms = lambda seconds: int(round(seconds * fs))  # noqa: E731
    start = qrs_on - ms(P_SEARCH_S)
    if t_off is not None:
        start = max(start, t_off - ms(rr_s) + ms(0.02))
    start = max(ms(0.02), start)
    stop = qrs_on - ms(0.03)
    leads = _leads_covering(median, start - ms(0.02), qrs_on + 1)
    if not leads or stop - start < ms(0.06):
        return None, None
    level = _isoelectric(median, leads, qrs_on)
    smooth = _moving_average(median.waves[leads] - level[:, None], ms(0.02))
    rms = np.sqrt(np.mean(smooth**2, axis=0))
    found, props = find_peaks(rms[start:stop], prominence=0.0)
    if not len(found):
        return None, None
    # the most prominent maximum: the tail of the previous T (or U) wave at the window's start can be higher
    p_peak = int(start + found[np.argmax(props["prominences"])])
    # a biphasic P wave (e.g. V1, or an inferior axis turning): its two halves point in opposite directions, so
    # the RMS dips to near zero for a moment between them; its onset is before the first half
    first = _first_half(rms, smooth, start + found, p_peak, ms)
    lo = max(start - ms(0.02), first - ms(P_RISE_MAX_S))
    floor = float(np.min(rms[lo : p_peak + 1]))
    if quality is not None:
        quality["p_height_mv"] = float(rms[p_peak] - floor)
    if rms[p_peak] - floor < P_MIN_AMPLITUDE_MV:
        return None, None
    if first != p_peak:
        floor = float(np.min(rms[lo : first + 1]))
    threshold = floor + P_ONSET_FRACTION * (rms[first] - floor)
    p_on = _crossing(rms, first, threshold, -1, ms(QUIET_RUN_S), limit=lo)
    if p_on is not None:
        p_on = _foot(rms, p_on, -1, ms(P_FOOT_MAX_S), ms(FOOT_SMOOTH_S))
    elif first - lo >= ms(P_RISE_MAX_S):
        # no quiet level before the P wave (it rises from the previous T wave's tail, fast rates): its onset is
        # the trough between the two, within the longest plausible rise
        p_on = lo + int(np.argmin(rms[lo : first + 1]))
    return p_on, p_peak


BIPHASIC_GAP_S = 0.09
"""The first half of a biphasic P wave peaks at most this long (s) before its second half ..."""
BIPHASIC_NOTCH = 0.3
"""... the RMS between the two halves falls below this fraction of the smaller one ..."""
BIPHASIC_NOTCH_S = 0.016
"""... for at most this long (s): a zero crossing of the P vector, not an isoelectric segment ..."""
BIPHASIC_SIZE, BIPHASIC_COSINE = 0.4, -0.3
"""... the first half is at least 0.4 times the second's RMS, and the two point in opposite directions (cosine of
the lead vectors at the two maxima below −0.3)."""


def _first_half(rms: np.ndarray, smooth: np.ndarray, peaks: np.ndarray, p_peak: int, ms) -> int:
    """The first half's maximum when ``p_peak`` is the second half of a biphasic P wave, else ``p_peak``."""
    for q in sorted((int(x) for x in peaks if p_peak - ms(BIPHASIC_GAP_S) <= x < p_peak), reverse=True):
        smaller = min(rms[q], rms[p_peak])
        if rms[q] < BIPHASIC_SIZE * rms[p_peak]:
            continue
        notch = rms[q : p_peak + 1] < BIPHASIC_NOTCH * smaller
        if not notch.any() or notch.sum() > ms(BIPHASIC_NOTCH_S):
            continue
        a, b = smooth[:, q], smooth[:, p_peak]
        cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
        if cosine < BIPHASIC_COSINE:
            return q
    return p_peak


# --- curve helpers --------------------------------------------------------------------------------------------
def _leads_covering(median: MedianBeats, start: int, stop: int) -> list[int]:
    """Independent leads recorded over ``[start, stop)``; all such leads when fewer than two independent ones are."""
    present = [i for i in range(len(LEADS)) if median.present(i, start, stop)]
    independent = [i for i in present if i in INDEPENDENT_LEADS]
    return independent if len(independent) >= 2 else present


def _spatial_velocity(waves: np.ndarray, fs: float) -> np.ndarray:
    """Euclidean norm over leads of the slope (mV/s); NaN where any of the leads is NaN."""
    return np.sqrt(np.sum(np.gradient(waves, axis=1) ** 2, axis=0)) * fs


def _moving_average(waves: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return waves
    kernel = np.ones(width) / width
    return np.stack([np.convolve(np.nan_to_num(w), kernel, mode="same") for w in waves])


def _isoelectric(median: MedianBeats, leads: list[int], qrs_on: int) -> np.ndarray:
    """Per-lead level of the PR segment: mean over the 10 ms before ``qrs_on`` (mV)."""
    a = max(0, qrs_on - int(0.01 * median.fs))
    return np.nanmean(median.waves[leads, a : qrs_on + 1], axis=1)


def _quietest(curve: np.ndarray, start: int, stop: int, width: int) -> tuple[int, float]:
    """Centre and level of the lowest ``width``-sample moving average of ``curve`` in ``[start, stop)``."""
    start, stop = max(0, start), min(len(curve), stop)
    seg = curve[start:stop]
    if len(seg) <= width:
        k = int(np.nanargmin(seg)) if len(seg) else 0
        return start + k, float(seg[k]) if len(seg) else 0.0
    smooth = np.convolve(seg, np.ones(width) / width, mode="valid")
    k = int(np.nanargmin(smooth))
    return start + k + width // 2, float(smooth[k])


def _foot(curve: np.ndarray, index: int, step: int, max_steps: int, width: int) -> int:
    """Walk from ``index`` in direction ``step`` while the ``width``-smoothed curve keeps falling (≤ max_steps)."""
    smooth = np.convolve(np.nan_to_num(curve), np.ones(width) / width, mode="same")
    for _ in range(max_steps):
        nxt = index + step
        if not (0 <= nxt < len(smooth)) or smooth[nxt] >= smooth[index]:
            break
        index = nxt
    return index


def _last_above(curve: np.ndarray, start: int, stop: int, threshold: float) -> int | None:
    idx = np.flatnonzero(curve[start:stop] > threshold)
    return start + int(idx[-1]) if len(idx) else None


def _crossing(curve: np.ndarray, origin: int, threshold: float, step: int, run: int, limit: int) -> int | None:
    """First index from ``origin`` along ``step`` where ``curve`` stays below ``threshold`` for ``run`` samples.

    Returns the boundary sample (the last sample above the threshold, moved one step on), or ``None`` when ``limit``
    is reached first.
    """
    below = 0
    i = origin
    limit = int(np.clip(limit, 0, len(curve) - 1))
    while (i - limit) * step < 0:
        i += step
        if not np.isfinite(curve[i]):
            return None
        below = below + 1 if curve[i] < threshold else 0
        if below >= run:
            return i - step * (run - 1)
    return None
