"""The whole pipeline, used by the command line and the HTTP API alike.

image ──► digitize ──► analyze (measure → findings) ──► waveform-feature classifier ──┐
  └────► classify (tiled + fusion) ────────────────────────────────────────────────────┴─► cross-check
                                                                   ──► screening model ──► `Report`

Models load once per `Pipeline`. Digitization and classification need only the image, so they run concurrently
(onnxruntime and OpenCV release the GIL). A signal record (CSV / EDF / WFDB / JSON) runs the waveform path and is
printed as a clean 3×4 paper ECG for the image classifiers; the report says so.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from analyze import Measurements, findings, measure
from analyze.codes import CODES
from classify.crosscheck import crosscheck_all
from classify.labels import TILED_CLASSES
from classify.manifest import MIN_VALIDATION_AUROC, MIN_VALIDATION_SUPPORT, ModelUnavailableError
from classify.runtime import ClassificationResult, Classifier
from classify.screening import ScreeningInputs, ScreeningModel, good_lead_share
from classify.waveform import WaveformClassifier, WaveformResult
from digitize.load import load_image
from digitize.pipeline import Digitization, digitize_image
from ecg.errors import EcgInputError
from ecg.io import read_record, record_format
from ecg.record import LEADS, EcgRecord
from report.model import Patient, Report, screening_status

SIGNAL_SUFFIXES = frozenset({".csv", ".edf", ".hea", ".dat", ".json"})


def software_version() -> str:
    try:
        return metadata.version("ecgscreen")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


@dataclass(frozen=True)
class PipelineResult:
    """The report plus the pictures and signals the PDF and the API serve."""

    report: Report
    record: EcgRecord | None
    image: np.ndarray | None
    """The image the classifiers saw (the input, or the rendering of a signal record), RGB uint8."""
    overlay: np.ndarray | None
    """The digitization overlay (image input only), RGB uint8."""
    saliency: np.ndarray | None
    """Occlusion saliency of the top classifier decision drawn on the image, RGB uint8 (when requested)."""


class Pipeline:
    """Image or signal record → `PipelineResult`.

    Parameters
    ----------
    models_dir : folder of the ONNX models and their manifest (default: the shipped ``models/``).
    saliency : compute an occlusion saliency map for the classifier panel (adds about a second per image).
    threads : onnxruntime intra-op threads per model.

    A missing classifier model does not stop the pipeline: the report says which model is missing and the
    screening status relies on the remaining sources. A model file whose sha256 differs from the manifest raises
    (the service must not run on an unverified model).
    """

    def __init__(self, models_dir: str | Path | None = None, *, saliency: bool = False, threads: int | None = None):
        self.saliency = saliency
        self.classifier: Classifier | None = None
        self.classifier_error: str | None = None
        try:
            self.classifier = Classifier(models_dir, threads=threads)
        except ModelUnavailableError as exc:
            self.classifier_error = str(exc)
        self.waveform, self.screening, self.model_errors = _optional_models(models_dir)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ecgscreen")

    @property
    def model_versions(self) -> dict[str, str]:
        versions = dict(self.classifier.model_versions) if self.classifier else {}
        if self.waveform:
            versions["waveform"] = self.waveform.version
        if self.screening:
            versions["screening"] = self.screening.version
        return versions

    def run(self, source: str | Path, *, patient: Patient | None = None) -> PipelineResult:
        """Run the pipeline on a file (image or signal record); bad input raises `EcgInputError`."""
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(2, "No such file", str(path))
        if path.is_dir():
            raise EcgInputError(f"{path}: is a folder; give an image or a record file")
        patient = patient or Patient()
        if path.suffix.lower() in SIGNAL_SUFFIXES:
            record_format(path)
            return self._run_signal(path, patient)
        return self._run_image(path, patient)

    # --- the two entry paths ----------------------------------------------------------------------------------
    def _run_image(self, path: Path, patient: Patient) -> PipelineResult:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        image = load_image(path)
        timings["load"] = time.perf_counter() - start
        digitized = self._pool.submit(_timed, digitize_image, image)
        classified = self._pool.submit(_timed, self._classify, image) if self.classifier else None
        digitization, timings["digitize"] = digitized.result()
        classification, errors = None, {}
        if classified is not None:
            (classification, error), timings["classify"] = classified.result()
            if error:
                errors["classify"] = error
        record, notes = digitization.record, _pdf_pages_note(path)
        return self._finish(
            path, "image", patient, record, image, digitization, classification, errors, timings, start, notes
        )

    def _run_signal(self, path: Path, patient: Patient) -> PipelineResult:
        from synth import synthesize  # rendering is only needed on this path

        timings: dict[str, float] = {}
        start = time.perf_counter()
        record = read_record(path, fs=500.0)
        timings["load"] = time.perf_counter() - start
        classification, errors, image = None, {}, None
        if self.classifier:
            t0 = time.perf_counter()
            try:
                bgr = synthesize(record, seed=0, distortion="none", layout="3x4+1", dpi=200).image
                image = np.ascontiguousarray(bgr[..., ::-1])  # DataSynth draws in OpenCV's BGR order
            except EcgInputError as exc:
                errors["render"] = str(exc)
            timings["render"] = time.perf_counter() - t0
            if image is not None:
                (classification, error), timings["classify"] = _timed(self._classify, image)
                if error:
                    errors["classify"] = error
        notes = (
            "input is a signal record: the image classifiers saw a clean 3×4 rendering of it; "
            "digitization does not apply",
        )
        absent = [name for name, row in zip(LEADS, record.signals, strict=True) if not np.isfinite(row).any()]
        if absent:
            notes += (f"leads not in the record: {', '.join(absent)}",)
        return self._finish(path, "signal", patient, record, image, None, classification, errors, timings, start, notes)

    # --- shared tail ------------------------------------------------------------------------------------------
    def _classify(self, image: np.ndarray) -> tuple[ClassificationResult | None, str | None]:
        assert self.classifier is not None
        try:
            return self.classifier.classify(image), None
        except EcgInputError as exc:
            return None, str(exc)

    def _finish(
        self,
        path: Path,
        kind: str,
        patient: Patient,
        record: EcgRecord,
        image: np.ndarray | None,
        digitization: Digitization | None,
        classification: ClassificationResult | None,
        errors: dict[str, str],
        timings: dict[str, float],
        start: float,
        notes: tuple[str, ...],
    ) -> PipelineResult:
        t0 = time.perf_counter()
        measurements: Measurements | None = None
        found = None
        try:
            measurements = measure(record)
            found = findings(measurements, sex=patient.sex, age=patient.age)
        except EcgInputError as exc:
            errors["analyze"] = str(exc)
        timings["analyze"] = time.perf_counter() - t0
        wave = self.waveform.classify(record, measurements) if self.waveform else None

        t0 = time.perf_counter()
        check = crosscheck_all(found, classification, wave)
        timings["crosscheck"] = time.perf_counter() - t0
        saliency = None
        if self.saliency and classification is not None:
            t0 = time.perf_counter()
            saliency = self._saliency(image, classification)
            timings["saliency"] = time.perf_counter() - t0

        quality = good_leads = None
        if digitization is not None:
            quality = digitization.quality
            good_leads = sum(1 for v in digitization.lead_confidence.values() if v >= 0.5)
        abnormal_codes = [f.code for f in found or [] if CODES[f.code].abnormal]
        counted_abnormal = check.label("ABNORMAL").counted
        probability = self._screening_probability(kind, record, digitization, classification, wave, check)
        status = screening_status(
            measurable=measurements is not None,
            quality=quality,
            good_leads=good_leads,
            abnormal_findings=abnormal_codes,
            abnormal_sources=[s for s, v in counted_abnormal.items() if v],
            disagreements=[c.label for c in check.disagreements],
            recorded_leads=None if kind == "image" else int(np.isfinite(record.signals).any(axis=1).sum()),
            abnormal_probability=probability,
            operating_point=self.screening.operating_point if self.screening and probability is not None else None,
        )
        if self.classifier_error:
            errors.setdefault("classify", self.classifier_error)
        notes = (*notes, *self.model_errors)
        unvalidated = [c for c in TILED_CLASSES if classification and c not in classification.tiled.validated]
        if unvalidated:
            notes = (
                *notes,
                f"tiled classifier: {', '.join(unvalidated)} did not pass validation (AUROC ≥ "
                f"{MIN_VALIDATION_AUROC:.2f} on ≥ {MIN_VALIDATION_SUPPORT} positives); shown, not counted in the "
                "cross-check or the status",
            )
        timings["total"] = time.perf_counter() - start
        report = Report(
            id=uuid.uuid4().hex,
            created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
            software_version=software_version(),
            input=_input_summary(path, kind, image),
            patient=patient,
            status=status,
            digitization=_digitization_summary(digitization) if digitization else None,
            measurements=measurements.to_dict() if measurements else None,
            findings=[f.to_dict() for f in found or []],
            classifiers=_classifier_summary(classification, self.model_versions, wave),
            crosscheck=check.to_dict(),
            timings_s=timings,
            errors=errors,
            notes=notes,
        )
        overlay = digitization.overlay if digitization else None
        return PipelineResult(report, record, image, overlay, saliency)

    def _screening_probability(
        self, kind: str, record: EcgRecord, digitization: Digitization | None,
        classification: ClassificationResult | None, wave: WaveformResult | None, check: Any,
    ) -> float | None:
        """The screening model's calibrated abnormal probability (``None`` without the model)."""
        if self.screening is None:
            return None
        tiled = classification.tiled if classification else None
        rules = check.label("ABNORMAL").verdicts.get("waveform")
        if digitization is not None:
            quality, share = float(digitization.quality), good_lead_share(digitization.lead_confidence)
        else:  # a signal record: no digitization; the recorded leads stand in for the confident ones
            quality, share = 1.0, float(np.isfinite(record.signals).any(axis=1).mean())
        inputs = ScreeningInputs(
            fusion=classification.fusion.abnormal_probability if classification else None,
            tiled_norm=tiled.probabilities.get("NORM") if tiled and "NORM" in tiled.validated else None,
            waveform=wave.probabilities["ABNORMAL"] if wave and "ABNORMAL" in wave.validated else None,
            rule_abnormal=rules, quality=quality, good_lead_share=share,
        )
        return self.screening.probability(inputs)

    def _saliency(self, image: np.ndarray | None, result: ClassificationResult) -> np.ndarray | None:
        if not self.saliency or image is None or self.classifier is None:
            return None
        from classify.explain import explain, overlay

        maps = explain(self.classifier, image, result)
        return overlay(image, maps[0], result.fusion.beats) if maps else None


def _timed(fn, *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def _pdf_pages_note(path: Path) -> tuple[str, ...]:
    """A remark when the input is a PDF of several pages (the digitizer reads page 1 only)."""
    with open(path, "rb") as fh:
        if fh.read(5) != b"%PDF-":
            return ()
    import pypdfium2 as pdfium  # present: the page was just rasterised with it

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return ()
    try:
        pages = len(document)
    finally:
        document.close()
    if pages <= 1:
        return ()
    return (f"the PDF has {pages} pages; only page 1 was read (submit one ECG per file)",)


def _input_summary(path: Path, kind: str, image: np.ndarray | None) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    out: dict[str, Any] = {"kind": kind, "file_name": path.name, "sha256": digest.hexdigest()}
    if image is not None and kind == "image":
        out["image_size"] = {"width": int(image.shape[1]), "height": int(image.shape[0])}
    return out


def _digitization_summary(d: Digitization) -> dict[str, Any]:
    cal, layout = d.calibration, d.layout
    warnings = []
    low = sorted(name for name, v in d.lead_confidence.items() if v < 0.5)
    if low:
        warnings.append("low confidence leads: " + ", ".join(low))
    if cal.source != "grid":
        warnings.append(f"scale from the {cal.source}, not from a measured grid")
    return {
        "layout": getattr(layout, "template", None),
        "px_per_mm": {"x": round(float(cal.px_per_mm_x), 3), "y": round(float(cal.px_per_mm_y), 3)},
        "speed_mm_s": float(cal.speed_mm_s),
        "gain_mm_mv": float(cal.gain_mm_mv),
        "calibration_source": str(cal.source),
        "lead_confidence": {k: round(float(v), 3) for k, v in d.lead_confidence.items()},
        "lead_reasons": {k: list(v) for k, v in d.lead_reasons.items() if v},
        "quality": round(float(d.quality), 3),
        "warnings": warnings,
        "notes": list(d.quality_notes) + list(cal.notes),
    }


def _classifier_summary(
    result: ClassificationResult | None, versions: dict[str, str], wave: WaveformResult | None = None
) -> dict[str, Any] | None:
    if result is None and wave is None:
        return None
    out = result.as_dict() if result is not None else {}
    if wave is not None:
        out["waveform"] = wave.to_dict()
    out["model_versions"] = versions
    return out


def _optional_models(
    models_dir: str | Path | None,
) -> tuple[WaveformClassifier | None, ScreeningModel | None, tuple[str, ...]]:
    """The waveform classifier and the screening model, each ``None`` (with a note) when its file is missing; a file
    whose sha256 differs still raises."""
    notes: list[str] = []
    waveform = screening = None
    try:
        waveform = WaveformClassifier(models_dir)
    except ModelUnavailableError as exc:
        notes.append(f"waveform-feature classifier not available: {exc}")
    try:
        screening = ScreeningModel.load(models_dir)
    except ModelUnavailableError as exc:
        notes.append(f"screening model not available (status by the schema 1.0 rule): {exc}")
    return waveform, screening, tuple(notes)
