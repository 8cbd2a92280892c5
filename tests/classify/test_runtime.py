"""The onnxruntime classifier: manifest verification, providers, outputs, and the saliency maps."""

from __future__ import annotations

import numpy as np
import pytest

from classify.labels import TILED_CLASSES
from classify.manifest import ModelIntegrityError, ModelUnavailableError, read_manifest
from classify.runtime import Classifier
from ecg.models import select_providers
from tests.conftest import make_fake_models


def test_classify_returns_both_results_with_beats_in_image_pixels(fake_models, ecg_image):
    image, _ = ecg_image
    result = Classifier(fake_models, threads=1).classify(image)
    assert list(result.tiled.probabilities) == list(TILED_CLASSES)
    expected = tuple(c for c, p in result.tiled.probabilities.items() if p >= 0.5)
    assert result.tiled.labels == expected
    assert result.fusion.label == ("abnormal" if result.fusion.abnormal_probability >= 0.5 else "normal")
    assert len(result.fusion.beats) == 6
    # canvas box (50, 100, 85, 150) on a 512 × 384 canvas → image 900 × 600 px
    x0, y0, x1, y1 = result.fusion.beats[0].box
    assert abs(x0 - 50 * 900 / 512) < 0.2 and abs(y1 - 150 * 600 / 384) < 0.2
    assert [b.score for b in result.fusion.beats] == sorted((b.score for b in result.fusion.beats), reverse=True)
    document = result.as_dict()
    assert set(document) >= {"tiled", "fusion", "model_versions"}
    assert document["model_versions"] == {"tiled": "tiled-test", "detector": "detector-test", "fusion": "fusion-test"}


@pytest.mark.parametrize("count", [0, 1, 40])
def test_zero_one_and_many_detections(tmp_path, ecg_image, count):
    boxes = np.array([[10 + 10 * k, 10, 40 + 10 * k, 60] for k in range(count)], dtype=np.float32)
    models = make_fake_models(tmp_path / "m", detector_boxes=boxes)
    result = Classifier(models, threads=1).classify(ecg_image[0])
    assert len(result.fusion.beats) == count
    assert 0.0 <= result.fusion.abnormal_probability <= 1.0


def test_runtime_refuses_a_model_whose_sha256_differs(fake_models):
    path = fake_models / "fusion.onnx"
    path.write_bytes(path.read_bytes() + b"\0")
    expected = read_manifest(fake_models)["fusion"].sha256
    with pytest.raises(ModelIntegrityError) as error:
        Classifier(fake_models)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_missing_models_are_named_with_the_training_command(tmp_path, fake_models):
    (fake_models / "detector.onnx").unlink()
    with pytest.raises(ModelUnavailableError, match=r"detector\.onnx is missing; train with: python -m classify"):
        Classifier(fake_models)
    with pytest.raises(ModelUnavailableError, match="tiled.onnx, .*detector.onnx, .*fusion.onnx are missing"):
        Classifier(tmp_path / "empty")


def test_cpu_only_without_a_gpu(monkeypatch):
    monkeypatch.setenv("ECGSCREEN_DEVICE", "cpu")
    assert select_providers() == ["CPUExecutionProvider"]


def test_occlusion_saliency_maps_cover_the_image(fake_models, ecg_image):
    from classify.explain import explain, overlay

    image, _ = ecg_image
    classifier = Classifier(fake_models, threads=1)
    result = classifier.classify(image)
    maps = explain(classifier, image, result)
    assert [m.decision for m in maps][-1] in ("fusion:abnormal", "fusion:normal")
    assert len(maps) == max(1, len(result.tiled.labels)) + 1
    for saliency in maps:
        assert saliency.heat.shape == image.shape[:2]
        assert 0.0 <= saliency.heat.min() and saliency.heat.max() <= 1.0
    # the fake tiled net reads mean brightness per tile: hiding ink must matter somewhere for the top class
    assert maps[0].heat.max() > 0
    assert len(maps[-1].beat_importance) == len(result.fusion.beats)
    picture = overlay(image, maps[-1], result.fusion.beats)
    assert picture.shape == image.shape and picture.dtype == np.uint8


def test_only_classes_that_pass_validation_are_validated():
    from classify.manifest import ModelEntry, validated_classes

    def entry(per_class):
        return ModelEntry(
            "m", "m.onnx", "0", 1, "v", {}, {}, classes=list(per_class) + ["X"], metrics={"per_class": per_class}
        )

    per_class = {
        "A": {"auroc": 0.85, "support": 12},  # passes
        "B": {"auroc": 0.85, "support": 9},  # too few positives
        "C": {"auroc": 0.65, "support": 40},  # not learned
        "D": {"auroc": None, "support": 0},  # no validation data
    }
    assert validated_classes(entry(per_class)) == ("A",)
    assert validated_classes(ModelEntry("m", "m.onnx", "0", 1, "v", {}, {}, classes=["A"])) == ()
