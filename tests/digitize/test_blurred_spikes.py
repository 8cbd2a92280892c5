"""Blurred narrow QRS spikes in photographs (issue 15, photo15): the merged-blob reading and its gate."""

from __future__ import annotations

import cv2
import numpy as np

from digitize.calibrate import Calibration
from digitize.pipeline import photographed_spikes
from digitize.trace import refine_path, viterbi_rows


def _blurred_spike(sigma: float = 1.3) -> tuple[np.ndarray, float, float]:
    """A flat trace at y = 150 with an R (tip y = 90) and S (tip y = 180) 3 px apart, blurred like a photo."""
    width, height = 240, 260
    xs = np.array([0, 118, 120, 121.5, 123, 125, width - 1], dtype=np.float64)
    ys = np.array([150, 150, 90, 180, 150, 150, 150], dtype=np.float64)
    scale = 8  # draw finely, then shrink: the strokes merge as in a 5 px/mm photograph
    img = np.zeros((height * scale, width * scale), np.uint8)
    pts = np.column_stack([xs * scale, ys * scale]).round().astype(np.int32)
    cv2.polylines(img, [pts], False, 255, int(1.8 * scale), cv2.LINE_AA)
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    return np.clip(img / np.percentile(img, 99.9), 0.0, 1.0), 90.0, 180.0


def test_merged_spike_keeps_its_tips():
    prob, r_tip, s_tip = _blurred_spike()
    path = viterbi_rows(prob, [150], 120.0, (0, prob.shape[1]))[0]
    merged = refine_path(prob, path, 0, line_px=4.0, reach_px=120, merge_spikes=True)
    # the tips are read within ~2 line widths (the blur rounds them), and in the order drawn: R before S
    assert merged.y.min() < r_tip + 8
    assert merged.y.max() > s_tip - 8
    assert merged.x[np.argmin(merged.y)] < merged.x[np.argmax(merged.y)]
    # away from the complex the line is flat
    far = np.abs(merged.x - 121) > 8
    assert np.max(np.abs(merged.y[far] - 150)) <= 1.5
    # the per-column reading (sharp prints) loses at least a third of the R wave on this blob
    plain = refine_path(prob, path, 0, line_px=4.0, reach_px=120)
    assert plain.y.min() > merged.y.min() + 15


def test_sharp_trace_is_read_the_same_either_way():
    xs = np.arange(300)
    ys = 150 + 20 * np.sin(xs / 25.0)
    img = np.zeros((300, 300), np.uint8)
    cv2.polylines(img, [np.column_stack([xs, ys]).round().astype(np.int32)], False, 255, 2, cv2.LINE_AA)
    prob = img.astype(np.float32) / 255.0
    path = viterbi_rows(prob, [150], 100.0, (0, 300))[0]
    a = refine_path(prob, path, 0, line_px=2.0, merge_spikes=True)
    b = refine_path(prob, path, 0, line_px=2.0)
    assert np.array_equal(a.x, b.x) and np.allclose(a.y, b.y)


def test_gate_needs_a_photographed_low_resolution_page():
    low = Calibration(5.0, 5.1)
    sharp = Calibration(7.874, 7.874)
    assert photographed_spikes(0.12, low)
    assert not photographed_spikes(0.0, low)  # flat scan or render at 130 dpi: per-column reading
    assert not photographed_spikes(0.12, sharp)  # photographed at 200 dpi: strokes stay apart
    assert not photographed_spikes(float("inf"), low)
