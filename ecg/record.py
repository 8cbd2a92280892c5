"""`EcgRecord`: the 12-lead signal every part of the project exchanges.

Contract (``DESIGN.md``): ``signals`` is float32, shape ``(12, n_samples)``, millivolts, rows in the order of
:data:`LEADS`; ``NaN`` where a lead was not recorded at that time (a 3×4 printout shows each lead for 2.5 s only,
the rhythm strip fills its lead for the full 10 s). ``fs`` is in Hz, 500 by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from ecg.errors import InvalidRecordError

LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
"""Standard 12-lead order; row ``i`` of ``EcgRecord.signals`` is lead ``LEADS[i]``."""

DEFAULT_FS: float = 500.0
"""Sampling rate (Hz) the project works at."""

MIN_FS, MAX_FS = 50.0, 20_000.0
"""Accepted sampling rates (Hz); outside this a header is almost certainly wrong."""

MAX_PLAUSIBLE_MV = 30.0
"""99th percentile of |signal| above this (mV) means the values are not millivolts (µV, raw ADC units...)."""

_LEAD_KEYS = {name.lower(): name for name in LEADS}
_LEAD_ALIASES = {"d1": "I", "d2": "II", "d3": "III", "di": "I", "dii": "II", "diii": "III", "mlii": "II"}


def lead_name(raw: str) -> str | None:
    """Map a lead label as written in files or on paper to its standard name, or ``None`` if it is not one.

    Accepts any case and common decorations: ``AVR``/``avr`` → ``aVR``, ``Lead II`` → ``II``, ``v1`` → ``V1``,
    ``D2`` → ``II``.
    """
    key = re.sub(r"[\s_\-.]", "", str(raw)).lower()
    key = key.removeprefix("lead")
    return _LEAD_KEYS.get(key) or _LEAD_ALIASES.get(key)


@dataclass(frozen=True)
class EcgRecord:
    """A 12-lead ECG in millivolts.

    Parameters
    ----------
    signals : ndarray, shape (12, n_samples)
        Millivolts, rows in :data:`LEADS` order, ``NaN`` where a lead was not recorded.
    fs : float
        Sampling rate in Hz.
    meta : dict
        Free-form provenance (source file, acquisition, labels); JSON-serialisable values only.
    """

    signals: np.ndarray
    fs: float = DEFAULT_FS
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sig = np.asarray(self.signals)
        if sig.ndim != 2 or sig.shape[0] != len(LEADS):
            raise InvalidRecordError(f"signals must have shape (12, n_samples), got {sig.shape}")
        if sig.shape[1] < 2:
            raise InvalidRecordError(f"record has {sig.shape[1]} samples; at least 2 are needed")
        if not np.issubdtype(sig.dtype, np.number):
            raise InvalidRecordError(f"signals must be numeric, got dtype {sig.dtype}")
        sig = np.ascontiguousarray(sig, dtype=np.float32)
        if np.isinf(sig).any():
            raise InvalidRecordError("signals contain infinite values")
        finite = np.isfinite(sig)
        if not finite.any():
            raise InvalidRecordError("every lead is empty (all values NaN)")
        if not (MIN_FS <= float(self.fs) <= MAX_FS):
            raise InvalidRecordError(f"sampling rate {self.fs} Hz is outside {MIN_FS:g}–{MAX_FS:g} Hz")
        p99 = float(np.percentile(np.abs(sig[finite]), 99))
        if p99 > MAX_PLAUSIBLE_MV:
            raise InvalidRecordError(
                f"values reach {p99:.0f} (99th percentile); signals must be in mV — are they in µV or ADC units?"
            )
        sig.setflags(write=False)
        object.__setattr__(self, "signals", sig)
        object.__setattr__(self, "fs", float(self.fs))

    # --- construction -----------------------------------------------------------------------------------------
    @classmethod
    def from_leads(
        cls, leads: Mapping[str, np.ndarray], fs: float = DEFAULT_FS, meta: dict[str, Any] | None = None
    ) -> EcgRecord:
        """Build a record from ``{lead label: samples}``; labels are normalised with :func:`lead_name`.

        Missing leads become all-NaN rows. Unknown or duplicate labels raise :class:`InvalidRecordError`.
        """
        rows: dict[str, np.ndarray] = {}
        unknown = []
        for raw, values in leads.items():
            name = lead_name(raw)
            if name is None:
                unknown.append(str(raw))
                continue
            if name in rows:
                raise InvalidRecordError(f"lead {name} appears twice (as {raw!r} and another label)")
            rows[name] = np.asarray(values, dtype=np.float32).ravel()
        if unknown:
            raise InvalidRecordError(f"unknown lead label(s): {', '.join(unknown)}; expected {', '.join(LEADS)}")
        if not rows:
            raise InvalidRecordError("no leads given")
        lengths = {len(v) for v in rows.values()}
        if len(lengths) != 1:
            raise InvalidRecordError(f"leads have different lengths: {sorted(lengths)}")
        n = lengths.pop()
        sig = np.full((len(LEADS), n), np.nan, dtype=np.float32)
        for name, values in rows.items():
            sig[LEADS.index(name)] = values
        return cls(sig, fs, dict(meta or {}))

    # --- views ------------------------------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    @property
    def time_s(self) -> np.ndarray:
        """Sample times in seconds, shape ``(n_samples,)``."""
        return np.arange(self.n_samples) / self.fs

    def lead(self, name: str) -> np.ndarray:
        """The samples of one lead (read-only view), by any label :func:`lead_name` understands."""
        std = lead_name(name)
        if std is None:
            raise KeyError(f"unknown lead {name!r}")
        return self.signals[LEADS.index(std)]

    def coverage(self) -> dict[str, float]:
        """Share of samples (0–1) that are recorded, per lead."""
        return {name: float(np.isfinite(row).mean()) for name, row in zip(LEADS, self.signals, strict=False)}

    @property
    def present_leads(self) -> tuple[str, ...]:
        """Leads with at least one recorded sample."""
        return tuple(name for name, row in zip(LEADS, self.signals, strict=False) if np.isfinite(row).any())

    def segments(self, name: str) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` sample ranges where the lead is recorded (finite), in order."""
        yield from finite_runs(self.lead(name))

    # --- transformations --------------------------------------------------------------------------------------
    def with_meta(self, **items: Any) -> EcgRecord:
        return replace(self, meta={**self.meta, **items})

    def resample(self, fs: float = DEFAULT_FS) -> EcgRecord:
        """The record at a new sampling rate (polyphase FIR, per recorded segment so NaN gaps stay gaps)."""
        if float(fs) == self.fs:
            return self
        ratio = Fraction(float(fs) / self.fs).limit_denominator(1000)
        up, down = ratio.numerator, ratio.denominator
        n_out = int(round(self.n_samples * up / down))
        out = np.full((len(LEADS), n_out), np.nan, dtype=np.float32)
        for i, row in enumerate(self.signals):
            for start, stop in finite_runs(row):
                seg = row[start:stop].astype(np.float64)
                res = resample_poly(seg, up, down, padtype="line") if len(seg) > 1 else seg
                o_start = int(round(start * up / down))
                o_stop = min(n_out, o_start + len(res))
                out[i, o_start:o_stop] = res[: o_stop - o_start]
        return replace(self, signals=out, fs=float(fs), meta={**self.meta, "resampled_from_hz": self.fs})


def finite_runs(values: np.ndarray) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` index ranges of consecutive finite values in a 1-D array."""
    finite = np.isfinite(np.asarray(values))
    edges = np.diff(np.concatenate(([0], finite.view(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    yield from ((int(a), int(b)) for a, b in zip(starts, stops, strict=False))
