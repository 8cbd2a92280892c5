"""The report pipeline end to end: JSON valid against the schema, PDF text matching the JSON, status rules,
classifier disagreement, partly failed digitization and hostile patient fields."""

import json
from pathlib import Path

import cv2
import jsonschema
import pypdfium2 as pdfium
import pytest

from classify.runtime import ClassificationResult, TiledResult
from ecg.io import read_record
from report.model import Patient
from report.pdf import write_pdf
from synth import synthesize
from tests.report.fakes import FakeClassifier, fake_pipeline

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "report" / "schema.json").read_text())


def _pdf_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def _check(result, tmp_path, name="report"):
    doc = result.report.to_dict()
    jsonschema.validate(doc, SCHEMA)
    json.dumps(doc, allow_nan=False)  # strict JSON
    pdf = write_pdf(result, tmp_path / f"{name}.pdf")
    return doc, _pdf_text(pdf)


def test_normal_signal_record(tmp_path, sample_record_path):
    result = fake_pipeline().run(sample_record_path, patient=Patient.from_user("A-1", "Test Person", 56, "F"))
    doc, text = _check(result, tmp_path)
    assert doc["input"]["kind"] == "signal" and doc["digitization"] is None
    assert "classifiers saw a clean 3×4 rendering" in doc["notes"][0]
    m = doc["measurements"]
    assert f"{m['heart_rate_bpm']:.0f} bpm" in text
    assert f"{m['qrs_ms']:.0f} ms" in text
    for finding in doc["findings"]:
        assert finding["statement"].split(":")[0] in text
    assert "unconfirmed: requires physician review" in text
    assert "Test Person" in text and "A-1" in text
    assert doc["crosscheck"]["labels"][0]["verdicts"]["tiled"] is False  # fake tiled says NORM


def test_classifier_disagreement_is_flagged_in_json_and_pdf(tmp_path, sample_record_path):
    result = fake_pipeline(fired=("AFIB",), abnormal=0.9).run(sample_record_path)
    doc, text = _check(result, tmp_path)
    assert "AFIB" in doc["crosscheck"]["disagreements"]
    assert doc["status"]["screening"] == "abnormal — review"
    assert any("sources disagree" in r for r in doc["status"]["reasons"])
    assert "Review: sources disagree on AFIB" in text


def test_abnormal_record_from_bundled_lbbb_sample(tmp_path):
    sample = Path(__file__).resolve().parents[2] / "samples" / "ptbxl-00256.hea"
    doc, _ = _check(fake_pipeline(fired=("CLBBB", "PVC"), abnormal=0.95).run(sample), tmp_path)
    assert doc["status"]["screening"] == "abnormal — review"
    assert doc["measurements"]["qrs_ms"] > 120


def test_image_with_blanked_leads_reports_low_confidence(tmp_path, sample_record_path):
    rendered = synthesize(read_record(sample_record_path), seed=2, distortion="none", layout="3x4+1", dpi=200)
    image = rendered.image.copy()
    height, width = image.shape[:2]
    image[int(0.2 * height) : int(0.75 * height), int(0.5 * width) : int(0.73 * width)] = 255  # V1–V3 column
    path = tmp_path / "blanked.png"
    cv2.imwrite(str(path), image)
    doc, text = _check(fake_pipeline().run(path), tmp_path)
    conf = doc["digitization"]["lead_confidence"]
    low = sorted(lead for lead, value in conf.items() if value < 0.5)
    assert low, conf  # the blanked column cannot be read with confidence
    assert f"low confidence leads: {', '.join(low)}" in doc["digitization"]["warnings"]
    assert "low confidence leads" in text and "Digitization overlay" in text


HOSTILE = {
    "id": "../../etc/passwd",
    "name": "<font size=80 color=red>X</font><b>bold</b>'; DROP TABLE reports;--" + "A" * 900,
}


def test_hostile_patient_fields_are_escaped_and_capped(tmp_path, sample_record_path):
    patient = Patient.from_user(HOSTILE["id"], HOSTILE["name"], "40", "m")
    assert len(patient.name) <= 120 and patient.sex == "M"
    doc, text = _check(fake_pipeline().run(sample_record_path, patient=patient), tmp_path)
    assert "<font size=80 color=red>X</font><b>bold</b>" in text  # printed literally, not interpreted
    assert "../../etc/passwd" in text
    assert doc["patient"]["name"] == patient.name


@pytest.mark.parametrize(
    ("field", "value"),
    [("age", "old"), ("age", 200), ("age", 4.5), ("age", "4.5"), ("sex", "X"), ("name", "A" * 1001),
     ("id", "1" * 1001)],
)
def test_bad_patient_fields_are_refused(field, value):
    with pytest.raises(ValueError):
        Patient.from_user(**{field: value})


def test_whole_float_ages_are_accepted_and_invisible_characters_removed():
    patient = Patient.from_user(name="\u202eAnn\u200d Lee\u2069", age=56.0)
    assert patient.age == 56 and patient.name == "Ann Lee"


def test_report_on_kit_dev_image_matches_its_json(tmp_path, shared_data):
    doc, text = _check(fake_pipeline().run(shared_data / "kit-dev" / "d001.png"), tmp_path)
    assert doc["digitization"]["layout"] == "3x4+1"
    m = doc["measurements"]
    for key in ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms"):
        if m[key] is not None:
            assert f"{m[key]:.0f}" in text


def test_letter_paper(tmp_path, sample_record_path):
    result = fake_pipeline().run(sample_record_path)
    pdf = pdfium.PdfDocument(str(write_pdf(result, tmp_path / "letter.pdf", paper="letter")))
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == (792, 612)
    with pytest.raises(ValueError):
        write_pdf(result, tmp_path / "x.pdf", paper="a3")  # type: ignore[arg-type]


class UnvalidatedTiled(FakeClassifier):
    """The tiled classifier fires AFIB, but none of its classes passed validation."""

    def classify(self, image, record=None):
        result = super().classify(image, record)
        tiled = TiledResult(result.tiled.probabilities, result.tiled.labels, result.tiled.thresholds, validated=())
        return ClassificationResult(tiled, result.fusion, result.model_versions, result.image_size)


def test_unvalidated_tiled_classes_do_not_set_the_status(tmp_path, sample_record_path):
    pipeline = fake_pipeline()
    pipeline.classifier = UnvalidatedTiled(("AFIB",), 0.1)
    doc, text = _check(pipeline.run(sample_record_path), tmp_path)
    afib = next(c for c in doc["crosscheck"]["labels"] if c["label"] == "AFIB")
    assert afib["verdicts"]["tiled"] is True and "tiled" in afib["excluded"]
    assert "AFIB" not in doc["crosscheck"]["disagreements"]
    assert not any("tiled" in r for r in doc["status"]["reasons"])
    assert any("did not pass validation" in n for n in doc["notes"])
    assert doc["classifiers"]["tiled"]["validated"] == []
    assert "not validated, not counted" in text
