"""Schema 1.1 end to end: the waveform classifier's output in ``classifiers.waveform``, its verdicts in the
cross-check, and the screening model's probability and operating point in the status, the JSON and the PDF."""

import json
from pathlib import Path

import jsonschema
import pypdfium2 as pdfium

from classify.crosscheck import SHARED_LABELS
from classify.screening import SCREENING_FEATURES, ScreeningModel
from classify.waveform import WaveformResult
from report.pdf import write_pdf
from tests.report.fakes import fake_pipeline

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "report" / "schema.json").read_text())


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
    pipeline = fake_pipeline(fired=fired, abnormal=fusion)
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
