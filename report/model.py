"""The report: what the pipeline concluded about one input, as typed data and as versioned JSON.

The JSON form is described by ``report/schema.json`` (JSON Schema 2020-12, ``schema_version`` below); its fields
are documented in the README. Overall status, in order of precedence:

* ``insufficient quality`` — the ECG could not be measured, or the digitization is too unreliable to read
  (overall quality < :data:`MIN_QUALITY`, or fewer than :data:`MIN_GOOD_LEADS` leads with confidence ≥ 0.5), or a
  signal record holds fewer than :data:`MIN_GOOD_LEADS` leads;
* with the screening model (:mod:`classify.screening`): ``abnormal — review`` when its calibrated
  ``abnormal_probability`` is ≥ its ``operating_point`` (chosen on validation images for sensitivity ≥ 0.90), else
  ``normal``. Abnormal statements, sources calling the ECG abnormal and disagreements are listed among the reasons
  but do not escalate by themselves;
* without it (model file missing), the rule of schema 1.0: ``abnormal — review`` when any abnormal waveform
  statement fires, any source calls the ECG abnormal or any two sources disagree, else ``normal``.

Whatever the status, the report is *unconfirmed: requires physician review*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # types only: the report model loads no stage code
    from analyze import Measurements
    from analyze.statement import Finding
    from classify.crosscheck import CrossCheck
    from report.sections import ClassifierOutputs, DigitizationSummary, InputSummary

SCHEMA_NAME = "ecgscreen.report"
SCHEMA_VERSION = "1.1"
CONFIRMATION = "unconfirmed: requires physician review"
MIN_QUALITY = 0.35
MIN_GOOD_LEADS = 6
MAX_FIELD_CHARS = 120
MAX_INPUT_CHARS = 1000
"""Longest patient ID or name accepted (CLI and API alike); kept text is then capped at :data:`MAX_FIELD_CHARS`."""
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
"""Bidirectional overrides/isolates/marks and zero-width characters: they can make a printed name read differently
from the stored one (e.g. U+202E reverses the rest of the line), so they are removed."""

Screening = Literal["normal", "abnormal — review", "insufficient quality"]


@dataclass(frozen=True)
class Patient:
    """Optional patient fields as the user typed them (never logged; escaped wherever they are rendered)."""

    id: str | None = None
    name: str | None = None
    age: int | None = None
    sex: Literal["M", "F"] | None = None

    @classmethod
    def from_user(
        cls, id: str | None = None, name: str | None = None, age: Any = None, sex: str | None = None
    ) -> Patient:
        """Normalise user input: refuses ID or name longer than :data:`MAX_INPUT_CHARS`, trims and caps text at
        :data:`MAX_FIELD_CHARS`, strips control, bidirectional and zero-width characters, accepts whole ages 0–130
        and sex M/F (anything else raises ValueError with the reason)."""
        for field_name, value in (("ID", id), ("name", name)):
            if value is not None and len(str(value)) > MAX_INPUT_CHARS:
                length = len(str(value))
                raise ValueError(f"patient {field_name} must be at most {MAX_INPUT_CHARS} characters, got {length}")
        if age not in (None, ""):
            if isinstance(age, float) and not age.is_integer():
                raise ValueError(f"age must be a whole number of years, got {age!r}")
            try:
                age = int(age)
            except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
                raise ValueError(f"age must be a whole number of years, got {age!r}") from None
            if not 0 <= age <= 130:
                raise ValueError(f"age must be 0–130 years, got {age}")
        else:
            age = None
        if sex not in (None, ""):
            sex = str(sex).strip().upper()[:1]
            if sex not in ("M", "F"):
                raise ValueError("sex must be M or F")
        else:
            sex = None
        return cls(_clean_text(id), _clean_text(name), age, sex)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "age": self.age, "sex": self.sex}


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    text = _INVISIBLE.sub("", str(value))
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text).strip()  # C0, DEL and C1 controls
    if len(text) > MAX_FIELD_CHARS:
        text = text[: MAX_FIELD_CHARS - 1] + "…"
    return text or None


@dataclass(frozen=True)
class Status:
    screening: Screening
    reasons: tuple[str, ...]
    abnormal_probability: float | None = None
    """Calibrated probability (0–1) that the ECG is abnormal; ``None`` without the screening model."""
    operating_point: float | None = None
    """Probability at or above which the screening says "abnormal — review"."""

    @property
    def text(self) -> str:
        return f"screening: {self.screening}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "screening": self.screening,
            "text": self.text,
            "confirmation": CONFIRMATION,
            "reasons": list(self.reasons),
            "abnormal_probability": None if self.abnormal_probability is None else round(self.abnormal_probability, 4),
            "operating_point": None if self.operating_point is None else round(self.operating_point, 4),
        }


@dataclass(frozen=True)
class Report:
    """Everything the PDF and the JSON say, as the stages' typed results; ``None`` where a stage did not run or
    failed (``errors`` says why). :meth:`to_dict` is the only place they become JSON, each by its own ``to_dict``
    (``as_dict`` for the image classifiers, inside :class:`report.sections.ClassifierOutputs`)."""

    id: str
    created_utc: str
    software_version: str
    input: InputSummary
    patient: Patient
    status: Status
    digitization: DigitizationSummary | None
    measurements: Measurements | None
    findings: tuple[Finding, ...]
    classifiers: ClassifierOutputs | None
    crosscheck: CrossCheck
    timings_s: dict[str, float]
    errors: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    review: dict[str, Any] | None = None
    """Reader settings and corrections (issue 19): ``{"version", "user_set", "corrections"}``; None = automatic."""

    def to_dict(self) -> dict[str, Any]:
        out = {
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "id": self.id,
            "created_utc": self.created_utc,
            "software": {"name": "ecgscreen", "version": self.software_version},
            "status": self.status.to_dict(),
            "input": self.input.to_dict(),
            "patient": self.patient.to_dict(),
            "digitization": None if self.digitization is None else self.digitization.to_dict(),
            "measurements": None if self.measurements is None else self.measurements.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "classifiers": None if self.classifiers is None else self.classifiers.to_dict(),
            "crosscheck": self.crosscheck.to_dict(),
            "timings_s": {k: round(v, 4) for k, v in self.timings_s.items()},
            "errors": dict(self.errors),
            "notes": list(self.notes),
        }
        if self.review is not None:
            out["review"] = self.review
        return out


def screening_status(
    *,
    measurable: bool,
    quality: float | None,
    good_leads: int | None,
    abnormal_findings: list[str],
    abnormal_sources: list[str],
    disagreements: list[str],
    recorded_leads: int | None = None,
    abnormal_probability: float | None = None,
    operating_point: float | None = None,
) -> Status:
    """Overall status from the stages' outcomes (see the module docstring for the rules); ``recorded_leads`` is
    the number of leads a signal record holds (fewer than :data:`MIN_GOOD_LEADS` is insufficient, as for images);
    ``abnormal_probability`` and ``operating_point`` come from the screening model (both or neither)."""
    reasons: list[str] = []
    if not measurable:
        reasons.append("the ECG could not be measured")
    if recorded_leads is not None and recorded_leads < MIN_GOOD_LEADS:
        reasons.append(f"only {recorded_leads} of 12 leads recorded (need {MIN_GOOD_LEADS})")
    if quality is not None and quality < MIN_QUALITY:
        reasons.append(f"digitization quality {quality:.2f} < {MIN_QUALITY}")
    if good_leads is not None and good_leads < MIN_GOOD_LEADS:
        reasons.append(f"only {good_leads} leads read with confidence ≥ 0.5 (need {MIN_GOOD_LEADS})")
    calibrated = abnormal_probability is not None and operating_point is not None
    if reasons:
        return Status("insufficient quality", tuple(reasons), abnormal_probability, operating_point)
    if calibrated:
        return _calibrated_status(
            abnormal_probability, operating_point, abnormal_findings, abnormal_sources, disagreements  # type: ignore[arg-type]
        )
    reasons += _context(abnormal_findings, abnormal_sources, disagreements, "sources disagree on")
    if reasons:
        return Status("abnormal — review", tuple(reasons))
    return Status("normal", ("all available sources agree the ECG is normal",))


def _calibrated_status(
    probability: float, operating_point: float, findings: list[str], sources: list[str], disagreements: list[str]
) -> Status:
    """The screening model's verdict; the other signals are listed as context, not as escalations."""
    abnormal = probability >= operating_point
    relation = "≥" if abnormal else "<"
    reasons = [f"calibrated abnormal probability {probability:.2f} {relation} operating point {operating_point:.2f}"]
    reasons += _context(findings, sources, disagreements, "sources disagree on (shown, weighed by the screening model)")
    return Status("abnormal — review" if abnormal else "normal", tuple(reasons), probability, operating_point)


def _context(findings: list[str], sources: list[str], disagreements: list[str], disagree_label: str) -> list[str]:
    """The reasons that describe what the sources said: abnormal statements, abnormal sources, disagreements."""
    lines = []
    if findings:
        lines.append("abnormal waveform statements: " + ", ".join(findings))
    if sources:
        lines.append("called abnormal by: " + ", ".join(sources))
    if disagreements:
        lines.append(f"{disagree_label}: " + ", ".join(disagreements))
    return lines
