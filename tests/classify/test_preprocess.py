"""Raw or rectified input, and box mapping through the rectifying homography."""

from __future__ import annotations

import numpy as np
import pytest

from classify.preprocess import map_boxes, prepare_image
from classify.runtime import Classifier


def test_map_boxes_follows_a_homography_and_back():
    shift_scale = np.array([[2.0, 0, 10], [0, 2.0, -5], [0, 0, 1]])
    boxes = np.array([[0, 0, 10, 20], [5, 5, 6, 6]], dtype=np.float32)
    mapped = map_boxes(boxes, shift_scale)
    np.testing.assert_allclose(mapped[0], [10, -5, 30, 35])
    np.testing.assert_allclose(map_boxes(mapped, np.linalg.inv(shift_scale)), boxes, atol=1e-4)


def test_a_rotation_gives_the_bounding_box_of_the_turned_corners():
    angle = np.deg2rad(90)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    np.testing.assert_allclose(map_boxes(np.array([[0, 0, 10, 4]]), rotation)[0], [-4, 0, 0, 10], atol=1e-5)


def test_none_is_the_identity_and_unknown_methods_are_refused(ecg_image):
    image, _ = ecg_image
    prepared = prepare_image(image, "none")
    assert prepared.image is image and prepared.applied == "none"
    with pytest.raises(ValueError, match="valid: none, rectify"):
        prepare_image(image, "deskew")


def test_rectified_classification_reports_beats_in_input_pixels(fake_models, ecg_image):
    image, _ = ecg_image
    raw = Classifier(fake_models, threads=1).classify(image)
    rectified = Classifier(fake_models, threads=1, preprocess="rectify").classify(image)
    assert len(rectified.fusion.beats) == len(raw.fusion.beats)
    for a, b in zip(raw.fusion.beats, rectified.fusion.beats, strict=True):
        # the drawn image is already axis-parallel: rectification may trim or pad a few pixels at most
        assert np.max(np.abs(np.subtract(a.box, b.box))) < 0.05 * image.shape[1]
