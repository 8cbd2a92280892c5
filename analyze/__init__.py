"""`EcgRecord` → global measurements (:func:`measure`) and rule-based findings (:func:`findings`)."""

from analyze.codes import CALIBRATED, CODES, CRITERIA, GUIDELINE, Code, Criteria
from analyze.errors import NoLongLeadError, RecordTooShortError, TooFewBeatsError, UnmeasurableRecordError
from analyze.findings import Finding, findings
from analyze.measure import INTERVAL_KEYS, Measurements, measure
from analyze.morphology import LeadMorphology

__all__ = [
    "CALIBRATED",
    "CODES",
    "CRITERIA",
    "GUIDELINE",
    "INTERVAL_KEYS",
    "Code",
    "Criteria",
    "Finding",
    "LeadMorphology",
    "Measurements",
    "NoLongLeadError",
    "RecordTooShortError",
    "TooFewBeatsError",
    "UnmeasurableRecordError",
    "findings",
    "measure",
]
