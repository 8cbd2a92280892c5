"""The report model holds the stages' typed results and serialises them only in ``Report.to_dict`` (issue 14): a
report built by the pipeline on a bundled sample holds typed sections, each JSON section is exactly that object's
own serialisation, the whole document validates against ``report/schema.json``, and the PDF prints the measurements
as the JSON rounds them."""

import json
from pathlib import Path

import jsonschema
import pypdfium2 as pdfium
import pytest

from analyze import Finding, Measurements
from classify.crosscheck import CrossCheck
from report.model import Patient
from report.pdf import _fmt, write_pdf
from report.sections import ClassifierOutputs, DigitizationSummary, InputSummary
from tests.report.fakes import fake_pipeline

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "report" / "schema.json").read_text())
PHOTO = REPO / "samples" / "photo-ptbxl-00256.jpg"


def _sections_are_their_own_serialisation(report) -> dict:
    doc = report.to_dict()
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    json.dumps(doc, allow_nan=False)
    assert isinstance(report.input, InputSummary) and doc["input"] == report.input.to_dict()
    assert isinstance(report.crosscheck, CrossCheck) and doc["crosscheck"] == report.crosscheck.to_dict()
    assert all(isinstance(f, Finding) for f in report.findings)
    assert doc["findings"] == [f.to_dict() for f in report.findings]
    assert doc["status"] == report.status.to_dict()
    if report.measurements is not None:
        assert isinstance(report.measurements, Measurements) and doc["measurements"] == report.measurements.to_dict()
    if report.digitization is not None:
        assert isinstance(report.digitization, DigitizationSummary)
        assert doc["digitization"] == report.digitization.to_dict()
    return doc


@pytest.mark.skipif(not PHOTO.exists(), reason=f"bundled sample {PHOTO} missing")
def test_photo_report_holds_typed_results_and_validates(tmp_path):
    result = fake_pipeline(fired=("AFIB",), abnormal=0.9).run(PHOTO, patient=Patient.from_user("P-7", "A <b>B</b>", 61))
    report = result.report
    doc = _sections_are_their_own_serialisation(report)
    assert report.input.kind == "image" and report.digitization is not None and report.measurements is not None
    cls = report.classifiers
    assert isinstance(cls, ClassifierOutputs) and cls.image is not None
    assert doc["classifiers"] == cls.to_dict()
    assert doc["classifiers"]["model_versions"] == cls.model_versions
    assert doc["classifiers"]["fusion"]["label"] == "abnormal" and doc["classifiers"]["tiled"]["labels"] == ["AFIB"]
    assert doc["crosscheck"]["disagreements"] == [c.label for c in report.crosscheck.disagreements]
    # the PDF reads the typed fields: what it prints agrees with the JSON
    pdf = pdfium.PdfDocument(str(write_pdf(result, tmp_path / "r.pdf")))
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    d = doc["digitization"]
    assert f"quality {d['quality']:.2f}" in text
    assert f"{d['speed_mm_s']:g} mm/s, {d['gain_mm_mv']:g} mm/mV (read)" in text
    fusion = doc["classifiers"]["fusion"]
    assert f"{fusion['label']} (p abnormal {fusion['abnormal_probability']:.2f}" in text
    if doc["measurements"]["qrs_ms"] is not None:
        assert f"{doc['measurements']['qrs_ms']:.0f} ms" in text


def test_signal_report_without_classifiers(sample_record_path):
    pipeline = fake_pipeline()
    pipeline.classifier, pipeline.classifier_error = None, "no classifier (test)"
    report = pipeline.run(sample_record_path).report
    doc = _sections_are_their_own_serialisation(report)
    assert report.digitization is None and doc["digitization"] is None
    assert report.classifiers is None and doc["classifiers"] is None  # no waveform model in the fake models folder
    assert doc["errors"]["classify"] == "no classifier (test)"


def test_classifier_outputs_serialise_like_the_schema_1_0_section():
    assert ClassifierOutputs.of(None, None, "screening-x") is None
    from classify.waveform import WaveformResult

    wave = WaveformResult({"ABNORMAL": 0.7}, ("ABNORMAL",), {"ABNORMAL": 0.5}, ("ABNORMAL",), "wf-1")
    out = ClassifierOutputs.of(None, wave, "screening-x").to_dict()
    assert list(out) == ["model_versions", "waveform"]  # key order of the stored reports
    assert out["model_versions"] == {"waveform": "wf-1", "screening": "screening-x"}
    assert out["waveform"] == wave.to_dict()


@pytest.mark.parametrize("value", [71.46, 72.46, 59.95, 100.04, 0.449])
def test_pdf_prints_measurements_as_the_json_rounds_them(value):
    shown = Measurements(heart_rate_bpm=value).to_dict()["heart_rate_bpm"]
    assert _fmt(value, "bpm") == f"{shown:.0f} bpm"
    assert _fmt(None, "ms") == _fmt(float("nan"), "ms") == "—"
