"""`ecgscreen digitize`: images → record files and overlays; bad input → one-line error, non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the drawing helpers beside this file
from ecg_drawing import draw_printout, synthetic_leads  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    launcher = "import sys; from api.cli import main; sys.argv = ['ecgscreen'] + sys.argv[1:]; main()"
    return subprocess.run([sys.executable, "-c", launcher, "digitize", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    image, _, _ = draw_printout(synthetic_leads(4), px_per_mm=6.0)
    cv2.imwrite(str(folder / "ecg.png"), image[:, :, ::-1])
    return folder


def test_single_image_to_csv_with_overlay(image_folder, tmp_path):
    out = tmp_path / "ecg.csv"
    done = _run(str(image_folder / "ecg.png"), "-o", str(out), "--overlay")
    assert done.returncode == 0, done.stderr
    header = out.read_text().splitlines()[0]
    assert header == "time_s,I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6"
    assert len(out.read_text().splitlines()) == 5001
    overlay = cv2.imread(str(tmp_path / "ecg_overlay.png"))
    assert overlay is not None and overlay.shape[:2] == (1200, 1680)


def test_folder_to_folder(image_folder, tmp_path):
    (image_folder / "blank.png").write_bytes(b"")
    out = tmp_path / "records"
    done = _run(str(image_folder), "-o", str(out), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert (out / "ecg.json").exists() and not (out / "blank.json").exists()
    assert "blank.png" in done.stderr  # the bad file is reported, the batch goes on
    (image_folder / "blank.png").unlink()


def test_bad_input_is_one_line_error(tmp_path):
    bad = tmp_path / "empty.jpg"
    bad.write_bytes(b"")
    done = _run(str(bad), "-o", str(tmp_path / "x.csv"))
    assert done.returncode != 0
    assert "empty" in done.stderr and "Traceback" not in done.stderr
