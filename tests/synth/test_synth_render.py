"""DataSynth rendering: layouts, exactness of the ground truth on the clean image, invalid input, determinism."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ecg.errors import EcgInputError
from ecg.record import LEADS, EcgRecord
from synth import LAYOUTS, RenderSpec, random_spec, render, synthesize
from synth.demo import synthetic_record
from synth.paper import sheet_shape

INK_MAX = 150  # trace ink is dark in every channel; red and blue grid lines keep one channel above 200


@pytest.fixture(scope="module")
def record() -> EcgRecord:
    return synthetic_record(seed=1)


@pytest.fixture(scope="module")
def clean(record):
    return render(record, RenderSpec(paper="red"), seed=5)


def ink_fraction(image: np.ndarray, points: np.ndarray) -> float:
    """Share of points whose bilinearly resampled colour is trace ink (dark in all channels)."""
    values = bilinear(image.astype(np.float64), points)
    return float((values.max(axis=1) < INK_MAX).mean())


def bilinear(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of an (H, W, C) image at (N, 2) pixel-centre positions (x, y)."""
    h, w = image.shape[:2]
    x = np.clip(points[:, 0], 0, w - 1.001)
    y = np.clip(points[:, 1], 0, h - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layout_plots_its_leads_in_their_windows(record, layout):
    spec = RenderSpec(layout=layout, top_mm=25.0, dpi=100)
    out = render(record, spec, seed=0)
    definition = LAYOUTS[layout]
    assert out.image.shape[:2] == sheet_shape("letter", 100)
    assert len(out.truth.panels) == sum(len(r) for r in definition.grid) + len(definition.rhythm)
    assert {p.lead for p in out.truth.panels} == set(definition.leads)
    for panel in out.truth.panels:
        span = 10.0 / (1 if panel.rhythm else definition.n_columns)
        assert panel.t_start_s == pytest.approx(panel.column * span)
        assert panel.t_stop_s - panel.t_start_s == pytest.approx(span)
    plotted = out.truth.plotted.signals
    for i, lead in enumerate(LEADS):
        spans = [(p.sample_start, p.sample_stop) for p in out.truth.panels if p.lead == lead]
        inside = np.zeros(plotted.shape[1], bool)
        for a, b in spans:
            inside[a:b] = True
        assert np.isnan(plotted[i, ~inside]).all()
        assert np.array_equal(plotted[i, inside], record.signals[i, inside])
    assert ink_fraction(out.image, out.truth.image_points()) >= 0.99


def test_standard_3x4_columns_start_every_2_5_seconds(clean):
    starts = {p.lead: p.t_start_s for p in clean.truth.panels if not p.rhythm}
    assert [starts[x] for x in ("I", "aVR", "V1", "V4")] == [0.0, 2.5, 5.0, 7.5]
    assert [starts[x] for x in ("II", "aVL", "V2", "V5")] == [0.0, 2.5, 5.0, 7.5]
    rhythm = [p for p in clean.truth.panels if p.rhythm]
    assert [(p.lead, p.t_start_s, p.t_stop_s) for p in rhythm] == [("II", 0.0, 10.0)]


def test_ground_truth_points_land_on_ink_and_shifted_points_do_not(clean):
    points = clean.truth.image_points()
    assert len(points) == 12 * 1250 + 5000
    assert ink_fraction(clean.image, points) >= 0.99
    shifted = points + [0.0, 4.0 * clean.truth.spec.trace_thickness_px]
    assert ink_fraction(clean.image, shifted) < 0.3


def test_pixels_convert_back_to_millivolts_and_seconds(clean, record):
    truth = clean.truth
    spec = truth.spec
    px_x, px_y = truth.px_per_mm
    points = truth.image_points()
    for panel, part in zip(truth.panels, truth.panel_slices(), strict=True):
        xy, samples = points[part], truth.point_sample[part]
        mv = (panel.baseline_px - xy[:, 1]) / (spec.gain_mm_mv * px_y)
        seconds = panel.t_start_s + (xy[:, 0] - panel.x_start_px) / (spec.speed_mm_s * px_x)
        source = record.signals[LEADS.index(panel.lead), samples]
        assert np.abs(mv - source).max() <= 1.0 / (spec.gain_mm_mv * px_y)  # within one pixel
        assert np.abs(seconds - samples / record.fs).max() <= 1.0 / (spec.speed_mm_s * px_x)


def test_drawn_trace_centre_matches_ground_truth_within_one_pixel():
    """Independent of the stored numbers: where the trace is flat, the ink's vertical centre is at the GT y."""
    out = render(synthetic_record(seed=2, noise_mv=0.0), RenderSpec(paper="red"), seed=0)
    truth = out.truth
    ink = np.clip(200.0 - out.image.max(axis=2), 0, None)  # trace darkness; grid lines keep a bright channel
    points = truth.image_points()
    errors = []
    for part in truth.panel_slices():
        xy = points[part]
        for col in range(int(xy[3, 0]) + 1, int(xy[-4, 0]), 7):
            k = int(np.searchsorted(xy[:, 0], col))
            if np.ptp(xy[k - 3 : k + 3, 1]) > 0.2:  # only flat stretches: a slope smears the column
                continue
            y = float(np.interp(col, xy[:, 0], xy[:, 1]))
            window = ink[int(round(y)) - 6 : int(round(y)) + 7, col]
            centre = int(round(y)) - 6 + float((window * np.arange(len(window))).sum() / window.sum())
            errors.append(abs(centre - y))
    assert len(errors) > 200
    assert np.median(errors) < 0.25 and np.max(errors) <= 1.0


def test_mask_marks_each_lead_under_its_trace(clean):
    truth = clean.truth
    points = np.round(truth.image_points()).astype(int)
    ids = clean.mask[points[:, 1], points[:, 0]]
    expected = np.array([truth.panels[i].lead_id for i in truth.point_panel])
    assert (ids == expected).mean() >= 0.95
    assert set(np.unique(clean.mask)) == {0} | {LEADS.index(p.lead) + 1 for p in truth.panels}


def test_beats_are_complete_and_inside_their_panels(clean, record):
    truth = clean.truth
    assert truth.r_peak_lead == "II"
    assert len(truth.beats) >= 12 * 1 + 9  # 72 bpm: ≥ 1 complete beat per 2.5 s panel, ≥ 9 on the 10 s strip
    points = truth.image_points()
    for beat in truth.beats:
        panel = truth.panels[beat.panel]
        assert panel.t_start_s <= beat.start_s < beat.r_peak_s < beat.stop_s <= panel.t_stop_s
        x0, y0, x1, y1 = truth.beat_box(beat, points)
        r_point = points[(truth.point_panel == beat.panel) & (truth.point_sample == round(beat.r_peak_s * 500))]
        assert x0 <= r_point[0, 0] <= x1 and y0 <= r_point[0, 1] <= y1
        assert x1 - x0 == pytest.approx((beat.stop_s - beat.start_s) * 25 * truth.px_per_mm[0], abs=4)


def test_calibration_pulse_is_one_millivolt_high(clean):
    spec = clean.truth.spec
    assert len(clean.truth.pulses) == 4
    for pulse in clean.truth.pulses:
        x0, y0, x1, y1 = pulse.box
        assert y1 - y0 == pytest.approx(spec.gain_mm_mv * spec.px_per_mm + spec.trace_thickness_px, abs=0.01)
        assert x1 - x0 == pytest.approx(0.2 * spec.speed_mm_s * spec.px_per_mm + spec.trace_thickness_px, abs=0.01)


def test_large_waves_overlap_neighbouring_rows_instead_of_being_clipped(record):
    big = EcgRecord(record.signals * 3.0, record.fs)
    out = render(big, RenderSpec(gain_mm_mv=20.0, dpi=100), seed=0)
    truth = out.truth
    points = truth.image_points()
    outside = np.zeros(len(points), bool)
    for panel, part in zip(truth.panels, truth.panel_slices(), strict=True):
        outside[part] = (points[part, 1] < panel.box[1]) | (points[part, 1] > panel.box[3])
    assert outside.mean() > 0.005
    assert ink_fraction(out.image, points[outside]) >= 0.99


def test_fifty_mm_per_second_shows_five_seconds(record):
    out = render(record, RenderSpec(speed_mm_s=50.0, dpi=100), seed=0)
    first = out.truth.panels[0]
    assert first.t_stop_s - first.t_start_s == pytest.approx(1.25)
    assert max(p.t_stop_s for p in out.truth.panels) == pytest.approx(5.0)


def test_same_seed_same_image_and_truth_different_seed_differs(record):
    a = synthesize(record, seed=11, distortion="scan")
    b = synthesize(record, seed=11, distortion="scan")
    c = synthesize(record, seed=12, distortion="scan")
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert np.array_equal(a.truth.image_points(), b.truth.image_points())
    assert a.truth.distortions == b.truth.distortions
    assert a.image.shape != c.image.shape or not np.array_equal(a.image, c.image)


def test_random_specs_are_valid_and_varied():
    rng = np.random.default_rng(0)
    specs = [random_spec(rng) for _ in range(60)]
    assert {s.layout for s in specs} == set(LAYOUTS)
    assert len({s.paper.name for s in specs}) >= 6
    assert {s.gain_mm_mv for s in specs} >= {5.0, 10.0}
    assert all(100 <= s.dpi <= 300 for s in specs)


# --- invalid input -------------------------------------------------------------------------------------------
def test_too_short_record_is_refused(record):
    short = EcgRecord(record.signals[:, :2000], record.fs)
    with pytest.raises(EcgInputError, match="lasts 4.00 s"):
        render(short, RenderSpec())


def test_missing_leads_are_named(record):
    limb_only = record.signals.copy()
    limb_only[6:] = np.nan
    with pytest.raises(EcgInputError, match="V1, V2, V3, V4, V5, V6"):
        render(EcgRecord(limb_only, record.fs), RenderSpec())


def test_lead_empty_inside_its_window_is_refused(record):
    signals = record.signals.copy()
    signals[LEADS.index("V4")] = np.nan
    signals[LEADS.index("V4"), :100] = 0.1  # recorded, but not where the 3×4 plots it (7.5–10 s)
    with pytest.raises(EcgInputError, match="V4"):
        render(EcgRecord(signals, record.fs), RenderSpec(layout="3x4"))


def test_all_nan_record_cannot_exist():
    with pytest.raises(EcgInputError):
        EcgRecord(np.full((12, 5000), np.nan, np.float32), 500.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dpi": 20}, "dpi 20 is outside"),
        ({"layout": "4x3"}, "unknown layout '4x3'"),
        ({"gain_mm_mv": 0.0}, "gain 0 mm/mV"),
        ({"speed_mm_s": 1000.0}, "paper speed 1000"),
        ({"margin_left_mm": 40.0}, "reduce the left margin"),
        ({"top_mm": 200.0}, "at least 5 mm per row"),
        ({"font": "comic"}, "unknown font"),
        ({"paper_size": "a3"}, "unknown paper size"),
    ],
)
def test_invalid_spec_is_refused_with_a_clear_message(record, change, message):
    with pytest.raises(EcgInputError, match=message):
        render(record, replace(RenderSpec(), **change))


def test_unknown_paper_and_non_record_are_refused(record):
    with pytest.raises(EcgInputError, match="unknown paper 'purple'"):
        RenderSpec(paper="purple")
    with pytest.raises(EcgInputError, match="expected an EcgRecord"):
        render(record.signals, RenderSpec())  # type: ignore[arg-type]


def test_a_registered_layout_renders_by_name_and_is_never_drawn_at_random():
    from synth.layout import EXTRA_LAYOUTS, LayoutDef, layout_def, register_layout

    definition = LayoutDef((("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6")), ("V5",))
    register_layout("test/3x4+V5", definition)
    try:
        register_layout("test/3x4+V5", definition)  # idempotent
        assert layout_def("test/3x4+V5").rhythm == ("V5",)
        with pytest.raises(ValueError):
            register_layout("3x4+1", definition)  # DataSynth's own names stay its own
        with pytest.raises(ValueError):
            register_layout("test/3x4+V5", LayoutDef(definition.grid, ("II",)))
        assert "test/3x4+V5" not in LAYOUTS
        rng = np.random.default_rng(0)
        assert all(random_spec(rng).layout in LAYOUTS for _ in range(50))
    finally:
        EXTRA_LAYOUTS.pop("test/3x4+V5", None)
