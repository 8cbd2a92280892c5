"""DataSynth distortions: the ground truth follows every geometric warp; levels and named steps behave."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecg.errors import EcgInputError
from synth import DISTORTIONS, LEVELS, RenderSpec, distort, render
from synth.demo import synthetic_record
from synth.geometry import DisplacementField

INK_MAX = 150  # trace ink is dark in every channel; red and blue grid lines keep one channel above 200


@pytest.fixture(scope="module")
def clean():
    return render(synthetic_record(seed=3), RenderSpec(paper="blue", dpi=150), seed=1)


def bilinear(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    x = np.clip(points[:, 0], 0, w - 1.001)
    y = np.clip(points[:, 1], 0, h - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    img = image.astype(np.float64)
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def ink_fraction(image: np.ndarray, points: np.ndarray) -> float:
    h, w = image.shape[:2]
    inside = (points[:, 0] >= 0) & (points[:, 0] <= w - 1) & (points[:, 1] >= 0) & (points[:, 1] <= h - 1)
    return float((bilinear(image, points[inside]).max(axis=1) < INK_MAX).mean())


GEOMETRIC = [
    [("rotation", 1.0)],
    [("perspective", 1.0)],
    [("wrinkles", 1.0)],
    [("creases", 1.0)],
    [("crop", 1.0)],
    [("wrinkles", 1.0), ("creases", 1.0), ("perspective", 0.8), ("rotation", 0.7), ("crop", 0.5)],
    [("creases", 0.6), ("rotation", 0.4), ("downscale", 0.3)],
]


@pytest.mark.parametrize("steps", GEOMETRIC, ids=lambda s: "+".join(n for n, _ in s))
def test_ground_truth_follows_geometric_warps(clean, steps):
    warped = distort(clean, steps, np.random.default_rng(7))
    points = warped.truth.image_points()
    assert ink_fraction(warped.image, points) >= 0.99
    # the warp really moved the traces, so where it moved them far, the undistorted positions miss the ink
    far = np.abs(points[:, 1] - clean.truth.points[:, 1]) > clean.truth.spec.trace_thickness_px + 2
    assert far.sum() > 100
    assert ink_fraction(warped.image, clean.truth.points[far]) < 0.5


def test_displacement_field_forward_inverts_backward():
    rng = np.random.default_rng(0)
    field = (rng.normal(0, 1, (20, 30, 2)) * 1.2).astype(np.float32)  # |gradient| well below 1, as for paper
    step = DisplacementField(field, stride=10.0, out_size=(290, 190))
    q = rng.uniform(10, 180, (500, 2))
    dx, dy = step.sample(q[:, 0], q[:, 1])  # exact: source = destination + d(destination)
    back = step.forward(q + np.stack([dx, dy], 1))
    assert np.abs(back - q).max() < 1e-3
    gx, gy = step.backward(q[:, 0].reshape(20, 25), q[:, 1].reshape(20, 25))  # the image resampling map
    assert np.abs(np.stack([gx.ravel(), gy.ravel()], 1) - (q + np.stack([dx, dy], 1))).max() < 0.1


def test_mask_follows_the_warp(clean):
    warped = distort(clean, [("rotation", 0.8), ("wrinkles", 0.8)], np.random.default_rng(2))
    truth = warped.truth
    pts = np.round(truth.image_points()).astype(int)
    h, w = warped.mask.shape
    ok = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
    ids = warped.mask[pts[ok, 1], pts[ok, 0]]
    expected = np.array([truth.panels[i].lead_id for i in truth.point_panel[ok]])
    assert (ids == expected).mean() >= 0.9


@pytest.mark.parametrize("level", LEVELS)
def test_levels_produce_images_and_log_json_ready_parameters(clean, level):
    out = distort(clean, level, np.random.default_rng(4))
    assert out.image.dtype == np.uint8 and out.image.ndim == 3
    assert out.mask.shape == out.image.shape[:2]
    assert out.truth.image_size == (out.image.shape[1], out.image.shape[0])
    names = [d.name for d in out.truth.distortions]
    if level == "none":
        assert names == [] and np.array_equal(out.image, clean.image)
    else:
        assert "jpeg" in names and len(names) >= 4
    if level in ("photo", "hard"):
        assert {"perspective", "lighting", "blur"} <= set(names) or level == "hard"
        assert max(out.image.shape) <= 1800
    json.dumps([d.params for d in out.truth.distortions])


@pytest.mark.parametrize("name", list(DISTORTIONS))
def test_each_distortion_runs_alone(clean, name):
    out = distort(clean, [(name, 0.6)], np.random.default_rng(1))
    assert out.truth.distortions[-1].name == name
    if name not in ("texture", "wrinkles", "creases", "downscale", "crop", "rotation", "perspective"):
        assert out.image.shape == clean.image.shape  # photometric steps keep the size and geometry
        assert np.array_equal(out.truth.image_points(), clean.truth.image_points())
    assert not np.array_equal(out.image, clean.image) or name == "crop"


def test_strength_scales_the_effect(clean):
    weak = distort(clean, [("blur", 0.2)], np.random.default_rng(0))
    strong = distort(clean, [("blur", 1.0)], np.random.default_rng(0))
    assert weak.truth.distortions[0].params["sigma_px"] == pytest.approx(0.6)
    assert strong.truth.distortions[0].params["sigma_px"] == pytest.approx(3.0)
    assert np.abs(strong.image.astype(int) - clean.image).mean() > np.abs(weak.image.astype(int) - clean.image).mean()
    angle = distort(clean, [("rotation", 1.0)], np.random.default_rng(3)).truth.distortions[0].params["angle_deg"]
    assert 0 < abs(angle) <= 15.0


def test_distortions_are_reproducible_with_a_seed(clean):
    a = distort(clean, "hard", np.random.default_rng(9))
    b = distort(clean, "hard", np.random.default_rng(9))
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.truth.image_points(), b.truth.image_points())


def test_bad_distortion_requests_are_refused(clean):
    with pytest.raises(EcgInputError, match="unknown distortion level 'blurry'"):
        distort(clean, "blurry")
    with pytest.raises(EcgInputError, match="unknown distortion 'melt'"):
        distort(clean, [("melt", 0.5)])
    with pytest.raises(EcgInputError, match="within 0–1"):
        distort(clean, [("blur", 2.0)])
    with pytest.raises(EcgInputError, match="unknown background"):
        distort(clean, [("rotation", 0.5)], background="moon")


def test_one_pixel_lines_at_100_dpi_follow_rotation_and_wrinkles():
    clean = render(synthetic_record(seed=6), RenderSpec(paper="red", dpi=100), seed=0)
    assert clean.truth.spec.trace_thickness_px == 1
    warped = distort(clean, [("wrinkles", 1.0), ("rotation", 1.0)], np.random.default_rng(0))
    assert ink_fraction(warped.image, warped.truth.image_points()) >= 0.99
