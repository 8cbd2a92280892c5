"""Viterbi trace extraction: crossing traces, gaps, text, stroke tips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitize.preprocess import InkLayers
from digitize.trace import line_width_px, refine_path, trace_probability, viterbi_rows


def _draw(width: int, height: int, curves: list[np.ndarray], thickness: int = 2) -> np.ndarray:
    img = np.zeros((height, width), np.uint8)
    xs = np.arange(width)
    for ys in curves:
        pts = np.column_stack([xs, ys]).round().astype(np.int32)
        cv2.polylines(img, [pts], False, 255, thickness, cv2.LINE_AA)
    return img.astype(np.float32) / 255.0


def test_crossing_traces_are_kept_apart():
    width = 600
    xs = np.arange(width)
    upper = 100 + 8 * np.sin(xs / 30.0)  # row 1: a gentle wave around y = 100
    lower = np.full(width, 200.0)  # row 2: flat at y = 200, with a tall spike reaching y = 60 at x ≈ 300
    spike = np.abs(xs - 300) < 6
    lower[spike] = 200 - 140 * (1 - np.abs(xs[spike] - 300) / 6)
    prob = _draw(width, 300, [upper, lower])
    paths = viterbi_rows(prob, [100, 200], 100.0, (0, width))
    first = refine_path(prob, paths[0], 0, line_px=2.0, reach_px=150)
    error = np.abs(first.y - np.interp(first.x, xs, upper))
    crossing = np.abs(first.x - 300) < 8
    assert np.max(error[~crossing]) <= 2.5
    assert np.max(error[crossing]) <= 8  # row 1 never follows the neighbour's spike (its tip is 40 px away)
    trace = refine_path(prob, paths[1], 0, line_px=2.0, reach_px=150)
    assert trace.y.min() < 70  # row 2 reaches its spike's tip
    far = np.abs(trace.x - 300) > 15
    assert np.max(np.abs(trace.y[far] - 200)) <= 2


def test_gap_is_bridged_and_marked():
    width = 400
    ys = np.full(width, 150.0) + 10 * np.sin(np.arange(width) / 40.0)
    prob = _draw(width, 300, [ys])
    prob[:, 180:220] = 0.0  # the trace is interrupted
    path = viterbi_rows(prob, [150], 100.0, (0, width))[0]
    trace = refine_path(prob, path, 0, line_px=2.0)
    gap = (trace.x > 185) & (trace.x < 215)
    assert not trace.on_ink[gap].any() and trace.on_ink[~gap & ((trace.x < 170) | (trace.x > 230))].all()
    assert np.max(np.abs(trace.y[~gap] - np.interp(trace.x, np.arange(width), ys)[~gap])) < 2.0


def test_text_below_the_trace_is_ignored():
    width = 500
    ys = np.full(width, 120.0)
    prob = _draw(width, 300, [ys])
    text = np.zeros(prob.shape, np.uint8)
    cv2.putText(text, "aVR", (200, 160), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 255, 3)
    prob = np.maximum(prob, text.astype(np.float32) / 255.0)
    path = viterbi_rows(prob, [120], 100.0, (0, width))[0]
    assert np.max(np.abs(path - 120)) <= 2


def test_blocked_columns_hide_the_calibration_pulse():
    width = 300
    ys = np.full(width, 150.0)
    ys[20:60] = 90.0  # a pulse standing on the baseline
    prob = _draw(width, 300, [ys])
    path = viterbi_rows(prob, [150], 100.0, (0, width), blocked=[(15, 65)])[0]
    assert np.max(np.abs(path - 150)) <= 2


def test_classical_probability_ranks_ink_over_background():
    rng = np.random.default_rng(0)
    ink = rng.uniform(0, 0.1, (200, 300)).astype(np.float32)
    ink[100:102, :] = 0.9
    prob = trace_probability(InkLayers(ink, ink))
    assert prob[100].mean() > 0.9 and prob[:90].mean() < 0.05


def test_unknown_trace_method():
    layers = InkLayers(np.zeros((10, 10), np.float32), np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="classical"):
        trace_probability(layers, method="unet-v9")


@pytest.mark.parametrize("thickness", [1, 2, 3])
def test_narrow_qrs_keeps_its_apexes(thickness):
    """An R wave 6 px wide and 120 px tall, then an S wave (a 70 ms QRS at 200 dpi): both apexes within 1 px (one
    sample per column would cut them: a steep stroke covers many rows of one column)."""
    width = 400
    xs = np.arange(width, dtype=float)
    knots_x = [0, 194, 197, 200, 203, 206, 208, 400]
    knots_y = [200, 200, 140, 80, 160, 230, 200, 200]
    ys = np.interp(xs, knots_x, knots_y)
    prob = _draw(width, 300, [ys], thickness=thickness)
    path = viterbi_rows(prob, [200], 150.0, (0, width))[0]
    line = line_width_px(prob, path, 0)
    trace = refine_path(prob, path, 0, line_px=line, reach_px=150)
    assert abs(trace.y.min() - 80) <= 1.0
    assert abs(trace.y.max() - 230) <= 1.0
    assert np.all(np.diff(trace.x) > 0)
    flat = (trace.x < 190) | (trace.x > 212)
    assert np.max(np.abs(trace.y[flat] - 200)) <= 1.0


def test_steep_spike_is_placed_to_a_fraction_of_a_pixel():
    """A 1.4-px-wide R spike 150 px tall drawn anti-aliased at a sub-pixel apex x: the traced y at the apex and on
    its x is found to a quarter pixel (a column-step trace puts it on a column centre)."""
    width, height, scale = 200, 300, 16
    xs = np.linspace(0, width, width * 50)
    apex_x = 100.3
    ys = np.interp(xs, [0, apex_x - 0.8, apex_x, apex_x + 0.6, width], [220, 220, 70, 220, 220])
    big = np.zeros((height * scale, width * scale), np.uint8)
    pts = np.column_stack([xs * scale, ys * scale]).round().astype(np.int32)
    cv2.polylines(big, [pts], False, 255, 2 * scale, cv2.LINE_8)
    prob = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    path = viterbi_rows(prob, [220], 150.0, (0, width))[0]
    line = line_width_px(prob, path, 0)
    trace = refine_path(prob, path, 0, line_px=line, reach_px=150)
    assert np.all(np.diff(trace.x) > 0)
    assert abs(trace.y.min() - 70) <= 3.0
    # the apex in pixel-centre coordinates is at apex_x - 0.5; a column-step trace puts it on a column centre
    assert abs(trace.x[np.argmin(trace.y)] - (apex_x - 0.5)) <= 0.25
    old = refine_path(prob, path, 0, line_px=line, reach_px=150, row_strokes=False)
    assert abs(old.x[np.argmin(old.y)] - (apex_x - 0.5)) > 0.25
