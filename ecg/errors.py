"""Errors the project raises for bad input and for unusable models.

Every error a user can cause derives from :class:`EcgInputError`; the command line and the HTTP API turn these
into a one-line message and exit code 2 or a 4xx response. A model that cannot be used raises :class:`ModelError`
(exit code 3, HTTP 503). Anything else is a bug.
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


class ModelError(RuntimeError):
    """A shipped model cannot be used (missing, corrupt, refused by onnxruntime): a server fault, never the client's.

    The command line exits with code 3 (not 2, the bad-input code); the HTTP API answers 503 with the reason.
    ``names`` are the manifest names of the models concerned.
    """

    def __init__(self, message: str, names: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.names = names
