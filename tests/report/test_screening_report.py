"""Schema 1.1 end to end: the waveform classifier's output in ``classifiers.waveform``, its verdicts in the
cross-check, and the screening model's probability and operating point in the status, the JSON and the PDF."""

import json
from pathlib import Path

import jsonschema
import pypdfium2 as pdfium

from classify.crosscheck import SHARED_LABELS
from classify.labels import TILED_CLASSES
from classify.runtime import Beat, ClassificationResult, FusionResult, TiledResult
from classify.screening import SCREENING_FEATURES, ScreeningModel
from classify.waveform import WaveformResult
from report.pdf import write_pdf
from report.pipeline import Pipeline

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "report" / "schema.json").read_text())


class FakeClassifier:
    """Stands in for the image models: the given tiled classes fire, the fusion net says ``abnormal``."""

    model_versions = {"tiled": "test", "detector": "test", "fusion": "test"}

    def __init__(self, fired: tuple[str, ...], abnormal: float):
        self.fired, self.abnormal = fired, abnormal

    def classify_tiled(self, image, record=None):
        probs = {c: (0.9 if c in self.fired else 0.05) for c in TILED_CLASSES}
        return TiledResult(probs, self.fired, dict.fromkeys(TILED_CLASSES, 0.5))

    def classify_fusion(self, image):
        beats = (Beat((10.0, 10.0, 60.0, 80.0), 0.9),)
        return FusionResult(self.abnormal, "abnormal" if self.abnormal >= 0.5 else "normal", 0.5, beats)

    def combine(self, image, tiled, fusion):
        return ClassificationResult(tiled, fusion, self.model_versions, image.shape[:2])

    def classify(self, image, record=None):
        return self.combine(image, self.classify_tiled(image, record), self.classify_fusion(image))


def _pipeline(fired: tuple[str, ...], abnormal: float) -> Pipeline:
    pipeline = Pipeline(Path("/nonexistent-models"))
    pipeline.classifier, pipeline.classifier_error = FakeClassifier(fired, abnormal), None
    return pipeline


class FakeWaveform:
    """Stands in for models/waveform.onnx: fixed probabilities, AT not validated."""

    version = "waveform-test"

    def __init__(self, abnormal: float, afib: float = 0.02):
        self.p = {label: 0.02 for label in SHARED_LABELS} | {"ABNORMAL": abnormal, "AFIB": afib, "AT": 0.9}

    def classify(self, record, measurements):
        labels = tuple(k for k, v in self.p.items() if v >= 0.5)
        validated = tuple(k for k in SHARED_LABELS if k != "AT")
        return WaveformResult(dict(self.p), labels, dict.fromkeys(self.p, 0.5), validated, self.version)


def _screening(weight: float = 1.0, op: float = 0.5) -> ScreeningModel:
    """Probability = sigmoid(waveform logit): the waveform model alone decides."""
    coefficients = tuple(weight if f == "waveform_logit" else 0.0 for f in SCREENING_FEATURES)
    return ScreeningModel(coefficients, 0.0, 1.0, 0.0, op, "screening-test")


def _run(tmp_path, sample_record_path, abnormal, fired=("NORM",), fusion=0.1):
    pipeline = _pipeline(fired=fired, abnormal=fusion)
    pipeline.waveform, pipeline.screening = FakeWaveform(abnormal), _screening()
    result = pipeline.run(sample_record_path)
    doc = result.report.to_dict()
    jsonschema.validate(doc, SCHEMA)
    pdf = write_pdf(result, tmp_path / "r.pdf")
    document = pdfium.PdfDocument(str(pdf))
    text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    return doc, text


def test_schema_1_1_fields_and_pdf_panel(tmp_path, sample_record_path):
    doc, text = _run(tmp_path, sample_record_path, abnormal=0.8)
    assert doc["schema_version"] == "1.1"
    assert abs(doc["status"]["abnormal_probability"] - 0.8) < 1e-3 and doc["status"]["operating_point"] == 0.5
    assert doc["status"]["screening"] == "abnormal — review"
    wave = doc["classifiers"]["waveform"]
    assert set(wave) >= {"probabilities", "labels", "thresholds", "validated"} and "AT" not in wave["validated"]
    at = next(c for c in doc["crosscheck"]["labels"] if c["label"] == "AT")
    assert at["verdicts"]["waveform_model"] is True and "waveform_model" in at["excluded"]
    assert "Waveform-feature classifier" in text and "Screening model" in text and "0.80" in text


def test_a_disagreement_alone_no_longer_escalates(tmp_path, sample_record_path):
    # the tiled network fires AFIB (validated in the fake) while the waveform rules and model do not: a disagreement
    doc, _ = _run(tmp_path, sample_record_path, abnormal=0.1, fired=("AFIB",), fusion=0.9)
    assert "AFIB" in doc["crosscheck"]["disagreements"]
    assert doc["status"]["screening"] == "normal"
    assert any("disagree" in r for r in doc["status"]["reasons"])  # still stated
