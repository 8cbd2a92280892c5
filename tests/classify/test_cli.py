"""`ecgscreen classify`: JSON output, one file per input, clear errors."""

from __future__ import annotations

import json

import cv2
import pytest
from typer.testing import CliRunner

from api.cli import app
from classify.labels import TILED_CLASSES

runner = CliRunner()


@pytest.fixture
def image_file(tmp_path, ecg_image):
    path = tmp_path / "ecg one.png"
    cv2.imwrite(str(path), cv2.cvtColor(ecg_image[0], cv2.COLOR_RGB2BGR))
    return path


def test_one_input_prints_json_with_the_documented_keys(fake_models, image_file):
    result = runner.invoke(app, ["classify", str(image_file), "--models-dir", str(fake_models)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document["tiled"]["probabilities"]) == list(TILED_CLASSES)
    assert set(document["tiled"]["labels"]) <= set(TILED_CLASSES)
    assert 0.0 <= document["fusion"]["abnormal_probability"] <= 1.0
    assert document["fusion"]["label"] in ("normal", "abnormal")
    assert {"box", "score"} == set(document["fusion"]["beats"][0])
    assert set(document["model_versions"]) == {"tiled", "detector", "fusion"}


def test_folder_output_writes_one_json_per_input_and_saliency(fake_models, image_file, tmp_path):
    second = image_file.with_name("second.png")
    second.write_bytes(image_file.read_bytes())
    out, maps = tmp_path / "out", tmp_path / "maps"
    result = runner.invoke(
        app,
        [
            "classify",
            str(image_file),
            str(second),
            "-o",
            str(out),
            "--models-dir",
            str(fake_models),
            "--saliency",
            str(maps),
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["ecg one.json", "second.json"]
    written = json.loads((out / "second.json").read_text())["saliency"]
    assert any(p.endswith(".fusion-abnormal.png") or p.endswith(".fusion-normal.png") for p in written)
    assert all((maps / p.split("/")[-1]).exists() for p in written)


def test_bad_image_gives_a_one_line_error(fake_models, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    result = runner.invoke(app, ["classify", str(bad), "--models-dir", str(fake_models)])
    assert result.exit_code != 0
    assert "notes.png" in str(result.exception) or "notes.png" in result.output


def test_several_inputs_without_an_output_folder_are_refused(fake_models, image_file):
    result = runner.invoke(app, ["classify", str(image_file), str(image_file), "--models-dir", str(fake_models)])
    assert result.exit_code != 0
    assert "-o OUT_DIR" in str(result.exception) + result.output


def test_missing_models_say_so(tmp_path, image_file):
    result = runner.invoke(app, ["classify", str(image_file), "--models-dir", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "missing; train with" in str(result.exception) + result.output
