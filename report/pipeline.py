"""The whole pipeline, used by the command line and the HTTP API alike.

image ──► digitize ──► analyze (measure → findings) ──► waveform-feature classifier ──┐
  │          └─► classify: tiled (reads the digitized record) ──────────────────────────┤
  └────────────► classify: fusion (reads the image) ────────────────────────────────────┴─► cross-check
                                                                        ──► screening model ──► `Report`

Models load once per `Pipeline`. The tiled classifier reads a canonical re-rendering of the digitized record
(:mod:`classify.canonical`), so classification runs after digitization; the report notes that dependence. A signal
record (CSV / EDF / WFDB / JSON) runs the waveform path; the fusion network sees a clean 3×4 paper print of it and
the tiled classifier the record itself; the report says so.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from analyze import findings, measure
from analyze.codes import CODES
from analyze.read_back import measure_read_back
from classify.crosscheck import crosscheck_all
from classify.labels import TILED_CLASSES
from classify.manifest import MIN_VALIDATION_AUROC, MIN_VALIDATION_SUPPORT, ModelUnavailableError
from classify.runtime import ClassificationResult, Classifier, FusionResult
from classify.screening import ScreeningInputs, ScreeningModel, good_lead_share
from classify.waveform import WaveformClassifier, WaveformResult
from digitize.load import load_image
from digitize.pipeline import digitize_image
from ecg.errors import EcgInputError
from ecg.io import read_record, record_format
from ecg.record import LEADS, EcgRecord
from report.corrections import Hints
from report.model import Patient, Report, Status, screening_status
from report.sections import ClassifierOutputs, DigitizationSummary, InputSummary, StageOutputs

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

    def run(self, source: str | Path, *, patient: Patient | None = None, hints: Hints | None = None) -> PipelineResult:
        """Run the pipeline on a file (image or signal record); bad input raises `EcgInputError`.

        ``hints`` (image input only) are settings the reader gave; the digitizer obeys them and the report lists
        them under ``review.user_set``.
        """
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(2, "No such file", str(path))
        if path.is_dir():
            raise EcgInputError(f"{path}: is a folder; give an image or a record file")
        patient = patient or Patient()
        if path.suffix.lower() in SIGNAL_SUFFIXES:
            if hints is not None and not hints.empty:
                raise EcgInputError("layout, lead, speed and gain settings apply to images, not to signal records")
            record_format(path)
            return self._run_signal(path, patient)
        result = self._run_image(path, patient, hints)
        if hints is not None and not hints.empty:  # issue 19: say which values the user set
            review = {"version": 1, "user_set": hints.to_dict(), "corrections": None}
            result = replace(result, report=replace(result.report, review=review))
        return result

    # --- the two entry paths ----------------------------------------------------------------------------------
    def _run_image(self, path: Path, patient: Patient, hints: Hints | None = None) -> PipelineResult:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        image = load_image(path)
        timings["load"] = time.perf_counter() - start
        digitize = (
            partial(digitize_image, hints=hints.to_digitize())
            if hints is not None and not hints.empty
            else digitize_image
        )
        digitized = self._pool.submit(_timed, digitize, image)
        fused = self._pool.submit(_timed, self._fusion, image) if self.classifier else None  # raw pixels: concurrent
        digitization, timings["digitize"] = digitized.result()
        classification, errors = None, {}
        if fused is not None:  # the tiled classifier reads the digitized record, so it runs after the digitizer
            assert self.classifier is not None
            (fusion, error), fusion_s = fused.result()
            if error:
                errors["classify"] = error
            else:
                tiled, tiled_s = _timed(self.classifier.classify_tiled, image, digitization.record)
                classification = self.classifier.combine(image, tiled, fusion)
                timings["classify"] = fusion_s + tiled_s
        outputs = StageOutputs(path, "image", digitization.record, image, start, digitization=digitization,
                               classification=classification, errors=errors, timings=timings,
                               notes=_pdf_pages_note(path))
        return self._finish(outputs, patient)

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
                (classification, error), timings["classify"] = _timed(self._classify, image, record)
                if error:
                    errors["classify"] = error
        notes = (
            "input is a signal record: the image classifiers saw a clean 3×4 rendering of it; "
            "digitization does not apply",
        )
        absent = [name for name, row in zip(LEADS, record.signals, strict=True) if not np.isfinite(row).any()]
        if absent:
            notes += (f"leads not in the record: {', '.join(absent)}",)
        outputs = StageOutputs(path, "signal", record, image, start, classification=classification, errors=errors,
                               timings=timings, notes=notes)
        return self._finish(outputs, patient)

    # --- shared tail ------------------------------------------------------------------------------------------
    def _fusion(self, image: np.ndarray) -> tuple[FusionResult | None, str | None]:
        assert self.classifier is not None
        try:
            return self.classifier.classify_fusion(image), None
        except EcgInputError as exc:
            return None, str(exc)

    def _classify(self, image: np.ndarray, record: EcgRecord | None) -> tuple[ClassificationResult | None, str | None]:
        assert self.classifier is not None
        try:
            return self.classifier.classify(image, record=record), None
        except EcgInputError as exc:
            return None, str(exc)

    def _finish(self, out: StageOutputs, patient: Patient) -> PipelineResult:
        """Measure, cross-check and decide the status from the stages' outputs; assemble the report."""
        t0 = time.perf_counter()
        found = None  # None: the waveform source did not speak (not: it found nothing)
        plain = None  # what the waveform classifier reads (its training rows were measured this way)
        try:
            out.measurements = plain = measure(out.record)
            d = out.digitization
            if d is not None:  # leads the digitizer is unsure of are not measured from; confidences capped
                out.measurements, used = measure_read_back(out.record, d.lead_confidence, d.quality, plain)
                left_out = [lead for lead, row in zip(LEADS, out.record.signals, strict=True)
                            if lead not in used and np.isfinite(row).any()]
                if left_out:
                    out.notes += (f"measured without the leads read with low confidence: {', '.join(left_out)}",)
            out.findings = found = findings(out.measurements, sex=patient.sex, age=patient.age)
        except EcgInputError as exc:
            out.errors["analyze"] = str(exc)
        out.timings["analyze"] = time.perf_counter() - t0
        wave = self.waveform.classify(out.record, plain) if self.waveform else None

        t0 = time.perf_counter()
        check = crosscheck_all(found, out.classification, wave)
        out.timings["crosscheck"] = time.perf_counter() - t0
        saliency = None
        if self.saliency and out.classification is not None:
            t0 = time.perf_counter()
            saliency = self._saliency(out.image, out.classification)
            out.timings["saliency"] = time.perf_counter() - t0

        status = self._status(out, check, self._screening_probability(out, wave, check))
        if self.classifier_error:
            out.errors.setdefault("classify", self.classifier_error)
        notes = out.notes + _tiled_notes(out.classification) + self.model_errors
        out.timings["total"] = time.perf_counter() - out.started
        d = out.digitization
        screening_version = self.screening.version if self.screening else None
        report = Report(
            id=uuid.uuid4().hex,
            created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
            software_version=software_version(),
            input=InputSummary.of(out.path, out.kind, out.image),
            patient=patient,
            status=status,
            digitization=DigitizationSummary.of(d) if d else None,
            measurements=out.measurements,
            findings=tuple(out.findings),
            classifiers=ClassifierOutputs.of(out.classification, wave, screening_version),
            crosscheck=check,
            timings_s=out.timings,
            errors=out.errors,
            notes=notes,
        )
        return PipelineResult(report, out.record, out.image, d.overlay if d else None, saliency)

    def _status(self, out: StageOutputs, check, probability: float | None = None) -> Status:
        d = out.digitization
        counted_abnormal = check.label("ABNORMAL").counted
        return screening_status(
            measurable=out.measurements is not None,
            quality=d.quality if d else None,
            good_leads=sum(1 for v in d.lead_confidence.values() if v >= 0.5) if d else None,
            abnormal_findings=[f.code for f in out.findings if CODES[f.code].abnormal],
            abnormal_sources=[s for s, v in counted_abnormal.items() if v],
            disagreements=[c.label for c in check.disagreements],
            recorded_leads=None if out.kind == "image" else int(np.isfinite(out.record.signals).any(axis=1).sum()),
            abnormal_probability=probability,
            operating_point=self.screening.operating_point if self.screening and probability is not None else None,
        )

    def _screening_probability(self, out: StageOutputs, wave: WaveformResult | None, check) -> float | None:
        """The screening model's calibrated abnormal probability (``None`` without the model)."""
        if self.screening is None:
            return None
        tiled = out.classification.tiled if out.classification else None
        d = out.digitization
        if d is not None:
            quality, share = float(d.quality), good_lead_share(d.lead_confidence)
        else:  # a signal record: no digitization; the recorded leads stand in for the confident ones
            quality, share = 1.0, float(np.isfinite(out.record.signals).any(axis=1).mean())
        inputs = ScreeningInputs(
            fusion=out.classification.fusion.abnormal_probability if out.classification else None,
            tiled_norm=tiled.probabilities.get("NORM") if tiled and "NORM" in tiled.validated else None,
            waveform=wave.probabilities["ABNORMAL"] if wave and "ABNORMAL" in wave.validated else None,
            rule_abnormal=check.label("ABNORMAL").verdicts.get("waveform"), quality=quality, good_lead_share=share,
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


def _tiled_notes(classification: ClassificationResult | None) -> tuple[str, ...]:
    """What the report says about the tiled classifier: what it read, and the classes that did not pass validation."""
    if classification is None:
        return ()
    notes = (classification.tiled.note,) if classification.tiled.note else ()
    unvalidated = [c for c in TILED_CLASSES if c not in classification.tiled.validated]
    if unvalidated:
        notes += (
            f"tiled classifier: {', '.join(unvalidated)} did not pass validation (AUROC ≥ "
            f"{MIN_VALIDATION_AUROC:.2f} on ≥ {MIN_VALIDATION_SUPPORT} positives); shown, not counted in the "
            "cross-check or the status",
        )
    return notes


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
    excluded = (screening.document or {}).get("excluded_sources", {}) if screening else {}
    for source, reason in excluded.items():
        notes.append(f"screening model: the {source} classifier is shown but not weighed ({reason})")
    return waveform, screening, tuple(notes)
