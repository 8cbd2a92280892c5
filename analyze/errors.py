"""Input errors of the measurement: the record cannot be measured, and the message says why in one line."""

from __future__ import annotations

from ecg.errors import EcgInputError


class UnmeasurableRecordError(EcgInputError):
    """The record is valid but cannot be measured."""


class RecordTooShortError(UnmeasurableRecordError):
    """The record is shorter than the rhythm length measurement needs."""


class NoLongLeadError(UnmeasurableRecordError):
    """No lead is recorded long enough to find the beats (no rhythm strip)."""


class TooFewBeatsError(UnmeasurableRecordError):
    """Fewer beats were found than measurement needs (flat line, noise, or a very slow rhythm)."""
