"""`ecgscreen report` and `ecgscreen agreement` through the real command line (subprocess): outputs on success,
one-line errors and exit code 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import jsonschema
import pytest

from ecg.io import read_record
from synth import synthesize

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "report" / "schema.json").read_text())


def ecgscreen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_report_writes_pdf_and_valid_json(tmp_path, fake_models):
    pdf, js = tmp_path / "r.pdf", tmp_path / "r.json"
    run = ecgscreen("report", REPO / "samples" / "photo-ptbxl-00001.jpg", "-o", pdf, "--json", js,
                    "--models", fake_models, "--no-saliency", "--id", "X1", "--sex", "F", "--age", "56")
    assert run.returncode == 0, run.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    doc = json.loads(js.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["classifiers"]["model_versions"]["tiled"] == "tiled-test"
    assert doc["patient"] == {"id": "X1", "name": None, "age": 56, "sex": "F"}


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda d: d / "missing.png", (), "file not found"),
        (lambda d: _write(d / "text.png", b"just some text, not an image"), (), "error:"),
        (lambda d: REPO / "samples" / "photo-ptbxl-00001.jpg", ("--sex", "X"), "sex must be M or F"),
        (lambda d: REPO / "samples" / "photo-ptbxl-00001.jpg", ("--paper", "a3"), "--paper must be a4 or letter"),
    ],
)
def test_report_bad_input_gives_one_line_error(tmp_path, make, extra, message):
    run = ecgscreen("report", make(tmp_path), "-o", tmp_path / "r.pdf", *extra)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not (tmp_path / "r.pdf").exists()


def test_report_refuses_non_pdf_output(tmp_path):
    run = ecgscreen("report", REPO / "samples" / "photo-ptbxl-00001.jpg", "-o", tmp_path / "r.docx")
    assert run.returncode == 2 and "must name a .pdf" in run.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_agreement_over_a_folder_with_labels(tmp_path, fake_models):
    folder = tmp_path / "images"
    folder.mkdir()
    for i, name in enumerate(("ptbxl-00001", "ptbxl-00256", "ptbxl-00172")):
        rendered = synthesize(read_record(REPO / "samples" / f"{name}.hea"), seed=i, distortion="none",
                              layout="3x4+1", dpi=150)
        cv2.imwrite(str(folder / f"{name}.png"), rendered.image)
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "file,labels\nptbxl-00001.png,\nptbxl-00256.png,ABNORMAL CLBBB PVC\nptbxl-00172.png,ABNORMAL CRBBB\n"
    )
    out = tmp_path / "out" / "agreement.json"
    run = ecgscreen("agreement", folder, "--labels", labels, "-o", out, "--html", tmp_path / "out" / "a.html",
                    "--models", fake_models)
    assert run.returncode == 0, run.stderr
    doc = json.loads(out.read_text())
    assert doc["n_reports"] == 3 and doc["failed"] == {}
    pair = doc["labels"]["ABNORMAL"]["pairs"]["tiled~fusion"]
    assert pair["n"] == 3 and sum(map(sum, pair["confusion"]["matrix"])) == 3
    assert doc["labels"]["ABNORMAL"]["accuracy"]["waveform"]["n"] == 3
    assert doc["fleiss_kappa_abnormal"]["n"] == 3
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert "Agreement over 3 reports" in (tmp_path / "out" / "a.html").read_text()
    # resumable: a second run reuses the cached reports
    cached = out.with_suffix(".reports") / "ptbxl-00001.json"
    made = cached.stat().st_mtime_ns
    again = ecgscreen("agreement", folder, "--labels", labels, "-o", out, "--models", fake_models)
    assert again.returncode == 0 and json.loads(out.read_text())["n_reports"] == 3
    assert cached.stat().st_mtime_ns == made
    # a report made by another release is stale: recomputed, not mixed into the statistics
    stale = json.loads(cached.read_text())
    stale["software"]["version"] = "0.0.1"
    cached.write_text(json.dumps(stale))
    third = ecgscreen("agreement", folder, "--labels", labels, "-o", out, "--models", fake_models)
    assert third.returncode == 0 and cached.stat().st_mtime_ns != made
    assert json.loads(cached.read_text())["software"]["version"] != "0.0.1"


def test_agreement_bad_labels_file(tmp_path, fake_models):
    folder = tmp_path / "images"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), synthesize(read_record(REPO / "samples" / "ptbxl-00001.hea"), seed=0,
                                                  distortion="none", dpi=100).image)
    labels = tmp_path / "labels.csv"
    labels.write_text("image,diagnosis\na.png,AF\n")
    run = ecgscreen("agreement", folder, "--labels", labels, "-o", tmp_path / "a.json", "--models", fake_models)
    assert run.returncode == 2 and "needs the columns 'file' and 'labels'" in run.stderr
