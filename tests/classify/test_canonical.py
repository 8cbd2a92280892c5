"""The canonical re-rendering (classify.canonical) and the print/digitization augmentation used to train on it."""

from __future__ import annotations

import numpy as np
import pytest

from classify.canonical import GRID_ROWS, canonical_tiles, render_page, rhythm_lead, slot_samples
from classify.train.canonical_augment import LAYOUTS, digitization_errors, print_mask, printed_record
from classify.train.canonical_data import decode, encode, patient_fold
from ecg.errors import EcgInputError
from ecg.record import LEADS

FS = 250.0
N = 2500


def beats(n: int = N, fs: float = FS, rate_hz: float = 1.2) -> np.ndarray:
    """12 leads of narrow Gaussian 'QRS' spikes (1 mV) at ``rate_hz``, lead i scaled by (i + 1) / 12."""
    t = np.arange(n) / fs
    row = sum(np.exp(-(((t - k / rate_hz - 0.3) / 0.02) ** 2)) for k in range(int(10 * rate_hz)))
    return np.stack([row * (i + 1) / 12 for i in range(len(LEADS))]).astype(np.float32)


def ink_per_slot(page: np.ndarray) -> np.ndarray:
    """Dark pixels in each of the 4 × 4 regions (rows × 2.5 s columns) of a canonical page."""
    h, w = page.shape
    return np.array(
        [
            [(page[r * h // 4 : (r + 1) * h // 4, c * w // 4 : (c + 1) * w // 4] < 128).sum() for c in range(4)]
            for r in range(4)
        ]
    )


def test_page_and_tiles_have_the_documented_geometry() -> None:
    signals = beats()
    page = render_page(signals, FS, size=96)
    assert page.shape == (96, 288) and page.dtype == np.uint8
    assert (page == 255).mean() > 0.8  # white background, thin black traces
    tiles = canonical_tiles(signals, FS, size=96)
    assert tiles.shape == (3, 96, 96)
    for k in range(3):
        np.testing.assert_array_equal(tiles[k], page[:, 96 * k : 96 * (k + 1)])


def test_every_slot_of_a_3x4_print_is_drawn_and_missing_data_stays_blank() -> None:
    printed = beats().copy()
    printed[~print_mask(N, "3x4+II")] = np.nan
    ink = ink_per_slot(render_page(printed, FS, size=128))
    assert (ink > 5).all()
    printed[LEADS.index("V4")] = np.nan  # a lead the digitizer lost
    ink = ink_per_slot(render_page(printed, FS, size=128))
    assert ink[0, 3] <= 2 and ink[1, 3] > 5  # (≤ 2: anti-aliased ends of neighbours)


def test_6x2_kit_print_fills_the_chest_slots_from_the_first_five_seconds() -> None:
    signals = beats()
    printed = signals.copy()
    printed[~print_mask(N, "6x2kit")] = np.nan  # every lead 0–5 s only, no rhythm strip
    row = printed[LEADS.index("V4")]
    np.testing.assert_array_equal(slot_samples(row, FS, 3), signals[LEADS.index("V4"), : N // 4])
    ink = ink_per_slot(render_page(printed, FS, size=128))
    assert (ink[:3] > 5).all()  # the 3×4 part is complete although V1–V6 have no data after 5 s
    assert ink[3, :2].min() > 5 and ink[3, 2:].max() <= 2  # rhythm row: the longest lead, 5 s


def test_rhythm_lead_prefers_ii_then_the_lead_printed_in_full() -> None:
    signals = beats()
    masked = signals.copy()
    masked[~print_mask(N, "3x4+II")] = np.nan
    assert LEADS[rhythm_lead(masked, FS)] == "II"
    masked = signals.copy()
    masked[~print_mask(N, "3x4+V1")] = np.nan
    assert LEADS[rhythm_lead(masked, FS)] == "V1"
    assert rhythm_lead(np.full((12, N), np.nan, np.float32), FS) is None


def test_render_refuses_bad_shapes_and_draws_nothing_for_an_empty_record() -> None:
    with pytest.raises(EcgInputError):
        render_page(np.zeros((3, 100), np.float32), FS)
    with pytest.raises(EcgInputError):
        render_page(np.zeros((12, 100), np.float32), 0.0)
    assert (render_page(np.full((12, N), np.nan, np.float32), FS, size=64) == 255).all()


def test_grid_rows_cover_every_lead_once() -> None:
    assert sorted(name for row in GRID_ROWS for name in row) == sorted(LEADS)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_print_masks_show_each_lead_for_at_least_2_5_s(layout: str) -> None:
    mask = print_mask(N, layout)
    assert mask.shape == (12, N)
    assert (mask.sum(axis=1) >= N // 4).all()
    printed = printed_record(beats(), FS, np.random.default_rng(0), layout=layout, strength=0.0)
    assert np.isnan(printed[~mask]).all() and np.isfinite(printed[mask]).all()


def test_digitization_errors_change_the_signal_but_keep_its_scale() -> None:
    signals = beats()
    np.testing.assert_array_equal(digitization_errors(signals, FS, np.random.default_rng(0), 0.0), signals)
    changed = [digitization_errors(signals, FS, np.random.default_rng(s)) for s in range(10)]
    assert all(not np.array_equal(c, signals) for c in changed)
    peaks = [np.nanmax(c[-1]) for c in changed]
    assert 0.4 < np.median(peaks) < 2.5  # lead V6 peaks at 1 mV before the errors


def test_packed_signals_round_trip_within_the_storage_step() -> None:
    signals = beats() * 3 - 1.0
    np.testing.assert_allclose(decode(encode(signals)), signals, atol=0.0026)
    folds = [patient_fold(p, 5) for p in range(200)]
    assert set(folds) == set(range(5)) and folds == [patient_fold(p, 5) for p in range(200)]
