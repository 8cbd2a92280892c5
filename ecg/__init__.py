"""The shared vocabulary: `EcgRecord`, lead names, units and file formats."""

from ecg.errors import EcgInputError, FormatError, InvalidRecordError, UnsupportedFormatError
from ecg.record import DEFAULT_FS, LEADS, EcgRecord, finite_runs, lead_name

__all__ = [
    "DEFAULT_FS",
    "LEADS",
    "EcgInputError",
    "EcgRecord",
    "FormatError",
    "InvalidRecordError",
    "UnsupportedFormatError",
    "finite_runs",
    "lead_name",
]
