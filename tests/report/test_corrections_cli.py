"""Issue 19: `ecgscreen report` obeys the reader's layout / lead / speed / gain / exclusion options, and the JSON and
PDF say which values the user set; impossible values are refused with one line and exit code 2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pypdfium2 as pdfium
import pytest

from ecg.io import read_record
from report.corrections import Correction, Hints, apply_correction, describe_renames

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "api"))
from corrections_kit import SWAPPED_GRID, snr_of, swapped_print  # noqa: E402

SCHEMA = json.loads((REPO / "report" / "schema.json").read_text())
READING_ORDER = ",".join([lead for row in SWAPPED_GRID for lead in row] + ["II"])


def ecgscreen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_report_with_lead_order_and_speed_set_by_the_user(tmp_path, fake_models):
    printed = swapped_print()
    image = tmp_path / "print.png"
    image.write_bytes(printed.png)
    pdf, js = tmp_path / "r.pdf", tmp_path / "r.json"
    run = ecgscreen("report", image, "-o", pdf, "--json", js, "--models", fake_models, "--leads", READING_ORDER,
                    "--speed", "25", "--gain", "10", "--exclude", "v6")
    assert run.returncode == 0, run.stderr
    doc = json.loads(js.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["review"]["user_set"] == {"leads": READING_ORDER.split(","), "speed_mm_s": 25.0, "gain_mm_mv": 10.0,
                                         "exclude": ["V6"]}
    assert [p["lead"] for p in doc["digitization"]["panels"][:2]] == ["aVR", "I"]
    assert doc["digitization"]["lead_confidence"]["V6"] == 0.0  # excluded: read as not recorded
    document = pdfium.PdfDocument(io.BytesIO(pdf.read_bytes()))
    text = document[0].get_textpage().get_text_range()
    document.close()
    assert "set by the user" in text and "(set by the user)" in text  # header line and footer speed/gain
    # and the leads are right: compare with the plotted truth
    signals_csv = tmp_path / "x.csv"
    from report.pipeline import Pipeline  # same result in-process, to read the signals

    result = Pipeline(fake_models).run(image, hints=Hints(leads=tuple(READING_ORDER.split(","))))
    from ecg.io import write_record

    write_record(result.record, signals_csv)
    assert snr_of(printed.truth, read_record(signals_csv, fs=500.0).signals, printed.fs, ("I", "aVR")) > 10.0


@pytest.mark.parametrize(("extra", "message"), [
    (("--speed", "500"), "impossible"),
    (("--gain", "0"), "impossible"),
    (("--leads", "I,II,V9"), "unknown lead name 'V9'"),
    (("--exclude", "foo"), "unknown lead name"),
    (("--layout", "5x5"), "unknown layout"),
])
def test_impossible_hints_are_refused(tmp_path, extra, message):
    run = ecgscreen("report", REPO / "samples" / "photo-ptbxl-00001.jpg", "-o", tmp_path / "r.pdf", *extra)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_corrections_add_up_and_describe_themselves():
    hints, changed = apply_correction(Hints(), Correction(rename={"V1": "V2", "V2": "V1"}))
    assert changed == ["V1 ↔ V2"] and dict(hints.rename) == {"V1": "V2", "V2": "V1"}
    hints, changed = apply_correction(hints, Correction(rename={"V2": "V1", "V1": "V2"}, speed_mm_s=50))
    assert hints.rename == () and changed == ["V1 ↔ V2", "speed 50 mm/s"]  # swapping back undoes it
    hints, _ = apply_correction(hints, Correction(exclude=["V3"]))
    hints, changed = apply_correction(hints, Correction(include=["V3"]))
    assert hints.exclude == () and changed == ["V3 included again"]
    with pytest.raises(ValueError, match="changes nothing"):
        apply_correction(hints, Correction(speed_mm_s=50))
    assert describe_renames({"I": "II"}) == ["I → II"]
    assert np.isclose(Hints.from_dict(Hints(gain_mm_mv=5, layout="6x2").to_dict()).gain_mm_mv, 5)
