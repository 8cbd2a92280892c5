"""Geometry of the patent's RGB tiling and of the fusion inputs."""

from __future__ import annotations

import numpy as np
import pytest

from classify.fusion_inputs import (
    BEAT_CROP_SIZE,
    DETECTOR_SIZE,
    MAX_BEATS,
    beat_crops,
    boxes_from_canvas,
    boxes_to_canvas,
    detector_canvas,
    global_image,
)
from classify.tiling import TILE_SIZE, rgb_tiles, tile_bounds, untile_channel_map


def test_tile_bounds_are_three_equal_tiles_dropping_the_remainder():
    bounds = tile_bounds(1001)
    assert bounds == [(0, 333), (333, 666), (666, 999)]
    assert len({b - a for a, b in bounds}) == 1


def test_each_channel_holds_its_own_tile_left_to_right():
    image = np.zeros((300, 900, 3), dtype=np.uint8)
    image[:, :300] = 10
    image[:, 300:600] = 120
    image[:, 600:] = 250
    tiles = rgb_tiles(image)
    assert tiles.shape == (3, TILE_SIZE, TILE_SIZE) and tiles.dtype == np.uint8
    assert [int(np.median(t)) for t in tiles] == [10, 120, 250]


def test_a_mark_lands_in_the_matching_tile_at_the_scaled_position():
    image = np.full((448, 1344, 3), 255, dtype=np.uint8)  # 3 tiles of 448 × 448 → factor 0.5
    image[200:210, 448 + 100 : 448 + 110] = 0  # in the middle tile at (x=100..110, y=200..210)
    tiles = rgb_tiles(image)
    dark = np.argwhere(tiles < 128)
    assert set(dark[:, 0]) == {1}
    assert 98 <= dark[:, 1].min() and dark[:, 1].max() <= 106  # rows 100..105 after halving
    assert 48 <= dark[:, 2].min() and dark[:, 2].max() <= 56


def test_grey_and_colour_inputs_agree_and_narrow_images_are_refused():
    grey = np.random.default_rng(0).integers(0, 255, (200, 600), dtype=np.uint8)
    colour = np.repeat(grey[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(rgb_tiles(grey), rgb_tiles(colour))
    with pytest.raises(ValueError, match="narrower"):
        rgb_tiles(np.zeros((10, 2), dtype=np.uint8))


def test_untile_places_channel_maps_back_on_their_thirds():
    maps = np.stack([np.full((TILE_SIZE, TILE_SIZE), v, np.float32) for v in (1.0, 2.0, 3.0)])
    heat = untile_channel_map(maps, (120, 301))
    assert heat.shape == (120, 301)
    assert heat[:, 0:100].mean() == 1.0 and heat[:, 100:200].mean() == 2.0 and heat[:, 200:300].mean() == 3.0
    assert heat[:, 300].max() == 0.0


def test_fusion_inputs_have_the_network_shapes():
    image = np.full((700, 1000, 3), 200, dtype=np.uint8)
    assert global_image(image).shape == (3, 192, 256)
    assert detector_canvas(image).shape == (3, *DETECTOR_SIZE)


def test_canvas_box_mapping_round_trips():
    boxes = np.array([[10, 20, 110, 220], [500, 0, 999, 699]], dtype=np.float32)
    back = boxes_from_canvas(boxes_to_canvas(boxes, (700, 1000)), (700, 1000))
    np.testing.assert_allclose(back, boxes, rtol=1e-5)


def test_beat_crops_fill_slots_in_order_and_skip_degenerate_boxes(ecg_image):
    image, boxes = ecg_image
    bad = np.array([[5, 5, 5.5, 5.5], [np.nan, 0, 10, 10]], dtype=np.float32)
    crops, mask = beat_crops(image, np.concatenate([bad, boxes[:3]]))
    assert crops.shape == (MAX_BEATS, 3, BEAT_CROP_SIZE, BEAT_CROP_SIZE)
    assert mask.tolist() == [1.0] * 3 + [0.0] * (MAX_BEATS - 3)
    assert (crops[3:] == 255).all() and crops[0].min() < 100  # a real crop holds ink
    crops, mask = beat_crops(image, boxes)
    assert mask.sum() == min(len(boxes), MAX_BEATS)
