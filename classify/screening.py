"""The screening model: one calibrated probability that an ECG is abnormal, from every source's output and the
digitization's quality, and the operating point that turns it into "abnormal — review" or "normal".

Inputs (:data:`SCREENING_FEATURES`, the order of the shipped coefficients)

==========================  ===================================================================================
feature                     value (a missing source: 0 and its ``*_missing`` indicator 1)
==========================  ===================================================================================
fusion_logit                logit of the fusion network's abnormal probability
tiled_logit                 logit of 1 − P(NORM) of the tiled network, only when its NORM class is validated
waveform_logit              logit of the waveform classifier's ABNORMAL probability, only when validated
rule_abnormal               1 when an abnormal waveform statement fired (:data:`classify.crosscheck.WAVEFORM_ABNORMAL`)
quality                     digitization quality 0–1 (1 for a signal record)
good_lead_share             share of the 12 leads read with confidence ≥ 0.5 (recorded leads for a signal)
waveform_logit_x_quality    the waveform logit times the quality: the waveform is trustworthy as far as the trace is
==========================  ===================================================================================

Model: logistic regression on these (a stacker, Wolpert 1992), fitted on validation *images* none of the sources
trained on, followed by Platt scaling (Platt 1999) fitted on the stacker's cross-validated outputs, so the
probability is calibrated on data the stacker did not see. The operating point is the highest probability at which
the cross-validated sensitivity on those images is still ≥ the target (0.90). Fitting:
:mod:`classify.train.screening`; the file is ``models/screening.json`` (coefficients, calibration, operating point,
feature order, what it was fitted on, its figures) with a manifest entry, so its sha256 is checked like a network's.
A source can be left out of the fit (``sources`` in the file, e.g. a model that trained on the validation patients,
so no held-out images exist to weigh it): it is then passed as missing when fitting and when serving.
A JSON file rather than ONNX: seven coefficients and two calibration numbers are read by a person in the manifest,
evaluated with numpy in microseconds, and need no converter.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ecg.manifest import resolve_models_dir, verified_entry

MODEL_NAME = "screening"
SCREENING_FEATURES: tuple[str, ...] = (
    "fusion_logit", "fusion_missing", "tiled_logit", "tiled_missing", "waveform_logit", "waveform_missing",
    "rule_abnormal", "rule_missing", "quality", "good_lead_share", "waveform_logit_x_quality",
)
SOURCES: tuple[str, ...] = ("fusion", "tiled", "waveform", "rules")
MIN_GOOD_CONFIDENCE = 0.5
_CLIP = 1e-4
TRAIN_HINT = "python -m classify.train.screening --cache out/screening/foreign-val.jsonl"


@dataclass(frozen=True)
class ScreeningInputs:
    """What the sources said about one ECG (``None`` where a source did not run or does not count)."""

    fusion: float | None = None
    tiled_norm: float | None = None
    """P(NORM) of the tiled network: only pass it when that class is validated."""
    waveform: float | None = None
    """ABNORMAL probability of the waveform classifier: only pass it when that label is validated."""
    rule_abnormal: bool | None = None
    quality: float | None = None
    good_lead_share: float | None = None


def logit(p: float) -> float:
    """log(p / (1 − p)) with p clipped to [1e-4, 1 − 1e-4] (outputs are rounded to 4 decimals)."""
    p = min(max(float(p), _CLIP), 1.0 - _CLIP)
    return math.log(p / (1.0 - p))


def screening_features(x: ScreeningInputs) -> np.ndarray:
    """The feature vector in :data:`SCREENING_FEATURES` order."""
    def part(p: float | None) -> tuple[float, float]:
        return (0.0, 1.0) if p is None else (logit(p), 0.0)

    tiled = part(None if x.tiled_norm is None else 1.0 - x.tiled_norm)
    fusion, waveform = part(x.fusion), part(x.waveform)
    quality = 1.0 if x.quality is None else float(x.quality)
    share = 1.0 if x.good_lead_share is None else float(x.good_lead_share)
    rule = (0.0, 1.0) if x.rule_abnormal is None else (float(bool(x.rule_abnormal)), 0.0)
    return np.array([*fusion, *tiled, *waveform, *rule, quality, share, waveform[0] * quality], dtype=np.float64)


@dataclass(frozen=True)
class ScreeningModel:
    """Coefficients, Platt calibration and operating point of ``models/screening.json``."""

    coefficients: tuple[float, ...]
    intercept: float
    platt_a: float
    platt_b: float
    operating_point: float
    version: str = ""
    document: dict[str, Any] | None = None
    sources: tuple[str, ...] = SOURCES
    """The sources the model was fitted with; the others are passed as missing."""

    @classmethod
    def from_document(cls, doc: dict[str, Any], version: str = "") -> ScreeningModel:
        if list(doc.get("feature_order", [])) != list(SCREENING_FEATURES):
            raise ValueError(f"screening model features {doc.get('feature_order')} differ from {SCREENING_FEATURES}")
        return cls(tuple(float(c) for c in doc["coefficients"]), float(doc["intercept"]),
                   float(doc["calibration"]["a"]), float(doc["calibration"]["b"]), float(doc["operating_point"]),
                   version, doc, tuple(doc.get("sources", SOURCES)))

    @classmethod
    def load(cls, models_dir: str | Path | None = None) -> ScreeningModel:
        """Open and verify ``screening.json`` (`ModelUnavailableError` when missing, `ModelIntegrityError` when
        its sha256 differs)."""
        models_dir = resolve_models_dir(models_dir)
        message = f"model file {models_dir / 'screening.json'} is missing; fit with: {TRAIN_HINT}"
        entry, path = verified_entry(models_dir, MODEL_NAME, missing_message=message)
        return cls.from_document(json.loads(path.read_text(encoding="utf-8")), entry.version)

    def decision(self, features: np.ndarray) -> np.ndarray:
        """Stacker output (log-odds before calibration) for rows ``(n, len(SCREENING_FEATURES))``."""
        return np.asarray(features, dtype=np.float64).reshape(-1, len(SCREENING_FEATURES)) @ np.array(
            self.coefficients) + self.intercept

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Calibrated abnormal probabilities of feature rows."""
        return 1.0 / (1.0 + np.exp(-(self.platt_a * self.decision(features) + self.platt_b)))

    def probability(self, inputs: ScreeningInputs) -> float:
        """Calibrated probability (0–1) that the ECG is abnormal (sources the model was not fitted with are
        ignored)."""
        return float(self.probabilities(screening_features(only_sources(inputs, self.sources)))[0])

    def abnormal(self, probability: float) -> bool:
        return probability >= self.operating_point


def only_sources(inputs: ScreeningInputs, sources: tuple[str, ...]) -> ScreeningInputs:
    """``inputs`` with the sources not in ``sources`` set to missing."""
    from dataclasses import replace

    fields = {"fusion": "fusion", "tiled": "tiled_norm", "waveform": "waveform", "rules": "rule_abnormal"}
    unknown = set(sources) - set(fields)
    if unknown:
        raise ValueError(f"unknown screening sources {sorted(unknown)}; valid: {', '.join(fields)}")
    return replace(inputs, **{field: None for name, field in fields.items() if name not in sources})


def good_lead_share(lead_confidence: dict[str, float] | None) -> float | None:
    """Share of the 12 leads read with confidence ≥ 0.5 (``None`` without confidences)."""
    if not lead_confidence:
        return None
    return sum(1 for v in lead_confidence.values() if v >= MIN_GOOD_CONFIDENCE) / 12.0


__all__ = [
    "SCREENING_FEATURES", "SOURCES", "ScreeningInputs", "ScreeningModel", "good_lead_share", "logit",
    "only_sources", "screening_features",
]
