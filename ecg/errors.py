"""Errors the project raises for bad input.

Every error a user can cause derives from :class:`EcgInputError`; the command line and the HTTP API turn these
into a one-line message and a non-zero exit code or a 4xx response. Anything else is a bug.
"""

from __future__ import annotations


class EcgInputError(ValueError):
    """The input cannot be used; the message says why in one line."""


class InvalidRecordError(EcgInputError):
    """A signal record breaks the `EcgRecord` contract (shape, units, leads, sampling rate)."""


class FormatError(EcgInputError):
    """A file is not a readable record of the format its name or content claims."""


class UnsupportedFormatError(EcgInputError):
    """The file type is not one the project reads or writes."""
