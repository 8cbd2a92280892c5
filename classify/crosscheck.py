"""Cross-check: the waveform rules, the RGB-tiled classifier, the fusion network and the waveform-feature classifier
on one shared label set.

Each source states, per shared label, ``True`` (present), ``False`` (absent) or ``None`` (it does not speak of that
label). A label on which two or more sources speak is *agreed* or *disagreed*; a disagreement is flagged for
physician review and never hidden. The waveform analysis measures intervals, so it is **authoritative** for the
interval-defined labels (pre-excitation, complete bundle branch blocks): for those the waveform verdict is the
resolved one and the report says so; for the others a disagreement stays unresolved.

A verdict of a tiled class that did not pass validation (:func:`classify.manifest.validated_classes`: AUROC ≥ 0.70
on ≥ 10 validation positives; for ABNORMAL the NORM class) is still shown, so agreement statistics can be computed
over it, but it is *excluded*: it takes no part in a label's status, resolution or disagreement, nor in the
screening status. An untrained class must not turn every report into "abnormal — review". The waveform-feature
classifier (:mod:`classify.waveform`, source ``waveform_model``) is gated the same way by its own validation figures.

A disagreement is shown and flagged per label (``needs_review``, for the reader and the evaluators) but does not by
itself set the screening status: that is the calibrated screening model's job (:mod:`classify.screening`), which
weighs the sources by how well each predicted on validation images.

Shared labels and who speaks of them
------------------------------------
==========  ======================================  ===================  =========================  ================
label       waveform rules (:mod:`analyze.codes`)   tiled classifier     fusion network             waveform model
==========  ======================================  ===================  =========================  ================
ABNORMAL    any of :data:`WAVEFORM_ABNORMAL`        any abnormal class   ``label == "abnormal"``    ABNORMAL
                                                    fired, or NORM not
AFIB        AFIB                                    AFIB                 —                          AFIB
AFLT        AFLT                                    AFLT                 —                          AFLT
PVC         PVC (BIGU, TRIGU)                       PVC                  —                          PVC
PAC         PAC                                     PAC                  —                          PAC
CLBBB       CLBBB  (authoritative)                  CLBBB                —                          CLBBB
CRBBB       CRBBB  (authoritative)                  CRBBB                —                          CRBBB
WPW         WPW    (authoritative)                  WPW                  —                          WPW
AT          AT                                      AT                   —                          AT
==========  ======================================  ===================  =========================  ================

Rate, axis and voltage statements (SBRAD, STACH, LAD, RAD, LVOLT) stay in the findings but do not make the waveform
side "abnormal" here: PTB-XL's normal/abnormal split, which the fusion network learned, counts only diagnostic
statements, and a sinus rate of 55 /min with an otherwise normal tracing is a normal ECG in that sense.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from analyze.findings import Finding
from classify.labels import TILED_CLASSES

if TYPE_CHECKING:
    from classify.runtime import ClassificationResult
    from classify.waveform import WaveformResult

SHARED_LABELS: tuple[str, ...] = ("ABNORMAL", "AFIB", "AFLT", "PVC", "PAC", "CLBBB", "CRBBB", "WPW", "AT")
SOURCES: tuple[str, ...] = ("waveform", "tiled", "fusion", "waveform_model")
WAVEFORM_LABELS: frozenset[str] = frozenset({"AFIB", "AFLT", "PVC", "PAC", "CLBBB", "CRBBB", "WPW", "AT"})
"""Shared labels the waveform rules have a rule for (every shared label)."""
WAVEFORM_CODES: dict[str, tuple[str, ...]] = {"PVC": ("PVC", "BIGU", "TRIGU")}
"""Shared label → the waveform codes that state it, where that is more than the label's own code."""
AUTHORITATIVE_WAVEFORM: frozenset[str] = frozenset({"CLBBB", "CRBBB", "WPW"})
"""Interval-defined labels on which the waveform analysis overrules the image classifiers."""
WAVEFORM_ABNORMAL: frozenset[str] = frozenset({"AFIB", "1AVB", "WPW", "CRBBB", "CLBBB", "IVCD", "LQT", "SQT", "AFLT",
                                               "AT", "PVC", "BIGU", "TRIGU", "PAC"})
"""Waveform codes that make a record abnormal for the ABNORMAL label."""

Status = Literal["agree", "disagree", "single source", "no source"]


@dataclass(frozen=True)
class LabelCheck:
    """One shared label: each source's verdict and evidence, the agreement status and the resolution."""

    label: str
    verdicts: dict[str, bool | None]
    evidence: dict[str, dict[str, Any]]
    status: Status
    resolved: bool | None
    """The verdict to report: the agreed one, the waveform's where it is authoritative, else ``None`` (review)."""
    note: str = ""
    excluded: dict[str, str] = field(default_factory=dict)
    """Sources whose verdict is shown but not counted, with the reason."""

    @property
    def counted(self) -> dict[str, bool]:
        """The verdicts that count: spoken and not excluded."""
        return {k: v for k, v in self.verdicts.items() if v is not None and k not in self.excluded}

    @property
    def needs_review(self) -> bool:
        return self.status == "disagree"

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "verdicts": dict(self.verdicts),
            "evidence": {k: dict(v) for k, v in self.evidence.items()},
            "status": self.status,
            "resolved": self.resolved,
            "needs_review": self.needs_review,
            "note": self.note,
            "excluded": dict(self.excluded),
        }


@dataclass(frozen=True)
class CrossCheck:
    """The cross-check of one record."""

    labels: tuple[LabelCheck, ...]
    sources_available: dict[str, bool] = field(default_factory=dict)

    @property
    def disagreements(self) -> tuple[LabelCheck, ...]:
        return tuple(c for c in self.labels if c.needs_review)

    def label(self, name: str) -> LabelCheck:
        return next(c for c in self.labels if c.label == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources_available": dict(self.sources_available),
            "labels": [c.to_dict() for c in self.labels],
            "disagreements": [c.label for c in self.disagreements],
        }


@dataclass(frozen=True)
class SourceVerdicts:
    """What one source says: verdict and evidence per shared label."""

    verdicts: dict[str, bool | None]
    evidence: dict[str, dict[str, Any]]
    excluded: dict[str, str] = field(default_factory=dict)
    """Labels whose verdict is shown but must not count, with the reason."""


def waveform_verdicts(found: Sequence[Finding] | None) -> SourceVerdicts:
    """Verdicts of the waveform rules; ``None`` findings (the record could not be measured) speak of nothing."""
    if found is None:
        return SourceVerdicts(dict.fromkeys(SHARED_LABELS), {})
    codes = {f.code: f for f in found}
    verdicts: dict[str, bool | None] = dict.fromkeys(SHARED_LABELS)
    evidence: dict[str, dict[str, Any]] = {}
    abnormal = sorted(WAVEFORM_ABNORMAL & codes.keys())
    verdicts["ABNORMAL"] = bool(abnormal)
    evidence["ABNORMAL"] = {"codes": abnormal} if abnormal else {"codes": sorted(codes)}
    for label in WAVEFORM_LABELS:
        stating = [codes[c] for c in WAVEFORM_CODES.get(label, (label,)) if c in codes]
        verdicts[label] = bool(stating)
        if stating:
            evidence[label] = {k: v for f in stating for k, v in f.evidence.items()}
    return SourceVerdicts(verdicts, evidence)


def tiled_verdicts(
    probabilities: dict[str, float] | None,
    labels: Sequence[str] | None,
    validated: Sequence[str] = TILED_CLASSES,
) -> SourceVerdicts:
    """Verdicts of the RGB-tiled classifier from its probabilities and the classes above threshold; labels whose
    class (NORM for ABNORMAL) is not in ``validated`` are marked excluded.

    ABNORMAL is "NORM not fired, or an abnormal class fired"; once NORM is validated only validated abnormal classes
    take part, so an unvalidated class that fires cannot make a counted ABNORMAL verdict.
    """
    if probabilities is None or labels is None:
        return SourceVerdicts(dict.fromkeys(SHARED_LABELS), {})
    reason = "not validated: AUROC < 0.70 or < 10 positives on validation data"
    excluded = {label: reason for label in SHARED_LABELS if (label if label != "ABNORMAL" else "NORM") not in validated}
    fired = set(labels)
    verdicts: dict[str, bool | None] = dict.fromkeys(SHARED_LABELS)
    evidence: dict[str, dict[str, Any]] = {}
    abnormal_fired = sorted(c for c in fired if c != "NORM" and ("NORM" not in validated or c in validated))
    verdicts["ABNORMAL"] = bool(abnormal_fired) or "NORM" not in fired
    evidence["ABNORMAL"] = {
        "fired": sorted(fired),
        "abnormal_counted": abnormal_fired,
        "p_NORM": probabilities.get("NORM"),
    }
    for label in SHARED_LABELS[1:]:
        if label in TILED_CLASSES:
            verdicts[label] = label in fired
            evidence[label] = {"probability": probabilities.get(label)}
    return SourceVerdicts(verdicts, evidence, {k: v for k, v in excluded.items() if verdicts[k] is not None})


def fusion_verdicts(abnormal_probability: float | None, label: str | None, threshold: float | None) -> SourceVerdicts:
    """Verdicts of the fusion network (it speaks only of ABNORMAL)."""
    verdicts: dict[str, bool | None] = dict.fromkeys(SHARED_LABELS)
    if label is None:
        return SourceVerdicts(verdicts, {})
    verdicts["ABNORMAL"] = label == "abnormal"
    return SourceVerdicts(
        verdicts, {"ABNORMAL": {"abnormal_probability": abnormal_probability, "threshold": threshold}}
    )


def waveform_model_verdicts(result: WaveformResult | None) -> SourceVerdicts:
    """Verdicts of the waveform-feature classifier (labels at or above threshold); labels that did not pass
    validation are marked excluded."""
    verdicts: dict[str, bool | None] = dict.fromkeys(SHARED_LABELS)
    if result is None:
        return SourceVerdicts(verdicts, {})
    evidence: dict[str, dict[str, Any]] = {}
    reason = "not validated: AUROC < 0.70 or < 10 positives on validation data"
    for label in SHARED_LABELS:
        if label in result.probabilities:
            verdicts[label] = label in result.labels
            evidence[label] = {"probability": result.probabilities[label], "threshold": result.thresholds.get(label)}
    excluded = {k: reason for k, v in verdicts.items() if v is not None and k not in result.validated}
    return SourceVerdicts(verdicts, evidence, excluded)


def crosscheck(
    waveform: SourceVerdicts,
    tiled: SourceVerdicts,
    fusion: SourceVerdicts,
    waveform_model: SourceVerdicts | None = None,
) -> CrossCheck:
    """Compare the sources label by label (``waveform_model`` ``None``: that classifier did not run)."""
    by_source = {"waveform": waveform, "tiled": tiled, "fusion": fusion,
                 "waveform_model": waveform_model or SourceVerdicts(dict.fromkeys(SHARED_LABELS), {})}
    checks = []
    for label in SHARED_LABELS:
        verdicts = {name: s.verdicts.get(label) for name, s in by_source.items()}
        evidence = {name: s.evidence[label] for name, s in by_source.items() if label in s.evidence}
        excluded = {name: s.excluded[label] for name, s in by_source.items() if label in s.excluded}
        speaking = {name: v for name, v in verdicts.items() if v is not None and name not in excluded}
        values = set(speaking.values())
        if not speaking:
            status: Status = "no source"
            resolved = None
        elif len(speaking) == 1:
            status, resolved = "single source", next(iter(values))
        elif len(values) == 1:
            status, resolved = "agree", next(iter(values))
        else:
            status, resolved = "disagree", None
        note = ""
        if label in AUTHORITATIVE_WAVEFORM and verdicts["waveform"] is not None:
            note = "interval-defined: the waveform measurement is authoritative"
            resolved = verdicts["waveform"]
        elif status == "disagree":
            note = "sources disagree: physician review required"
        checks.append(LabelCheck(label, verdicts, evidence, status, resolved, note, excluded))
    available = {name: any(v is not None for v in s.verdicts.values()) for name, s in by_source.items()}
    return CrossCheck(tuple(checks), available)


def crosscheck_all(
    found: Sequence[Finding] | None,
    classification: ClassificationResult | None,
    waveform_result: WaveformResult | None = None,
) -> CrossCheck:
    """:func:`crosscheck` of the waveform findings (None: not measurable) against the image classifiers' outputs
    and the waveform-feature classifier's (None: not run)."""
    tiled = classification.tiled if classification else None
    fusion = classification.fusion if classification else None
    return crosscheck(
        waveform_verdicts(found),
        tiled_verdicts(
            tiled.probabilities if tiled else None,
            tiled.labels if tiled else None,
            tiled.validated if tiled else TILED_CLASSES,
        ),
        fusion_verdicts(
            fusion.abnormal_probability if fusion else None,
            fusion.label if fusion else None,
            fusion.threshold if fusion else None,
        ),
        waveform_model_verdicts(waveform_result),
    )
