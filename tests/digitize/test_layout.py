"""Layout recognition on DataSynth renders of a synthetic record: 6×2, 12×1, 3×4+3 and the rhythm strip's lead."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitize.pipeline import digitize_image
from synth import RenderSpec, render
from synth.demo import synthetic_record


@pytest.fixture(scope="module")
def record():
    return synthetic_record(seed=3)


def _digitize(record, **spec_fields):
    spec = RenderSpec(dpi=100.0, header=False, footer=False, **spec_fields).validate()
    rendered = render(record, spec, np.random.default_rng(0))
    return digitize_image(cv2.cvtColor(rendered.image, cv2.COLOR_BGR2RGB)), rendered


@pytest.mark.parametrize("layout", ["6x2", "12x1", "3x4+3"])
def test_layout_template_is_recognised(record, layout):
    result, _ = _digitize(record, layout=layout)
    assert result.layout.template == layout
    assert set(result.record.present_leads) == set(record.present_leads)


def test_rhythm_strip_lead_is_read_from_the_traces(record, monkeypatch):
    from synth.layout import LAYOUTS, LayoutDef

    monkeypatch.setitem(LAYOUTS, "3x4+V1", LayoutDef(LAYOUTS["3x4+1"].grid, ("V1",)))  # a V1 rhythm strip
    result, _ = _digitize(record, layout="3x4+V1")
    rhythm = [p for p in result.layout.panels if p.row == 3]
    assert [p.lead for p in rhythm] == ["V1"]
    assert result.record.coverage()["V1"] > 0.95  # the 10 s strip, not just the 2.5 s panel
    assert result.record.coverage()["II"] < 0.3


def test_a_lead_whose_window_the_trace_only_partly_spans_loses_confidence() -> None:
    """A print cut off after 5 s: the leads of the missing half must not be claimed as read."""
    from digitize.calibrate import Calibration
    from digitize.confidence import lead_confidences
    from digitize.layout import TEMPLATES, Layout, template_panels
    from digitize.trace import RowTrace

    calibration = Calibration(4.0, 4.0, 25.0, 10.0, "grid", 0.9, 10.0)
    px_per_s = calibration.px_per_s
    panels = template_panels(TEMPLATES["3x4"], 0.0, 10.0, px_per_s)
    layout = Layout("3x4", (100.0, 200.0, 300.0), 100.0, 0.0, 10 * px_per_s, 10.0, panels, (None, None, None), ())
    x = np.arange(0.0, 5.5 * px_per_s)  # the trace stops at 5.5 s: V1/V2/V3 a fifth covered, V4–V6 not at all
    traces = [RowTrace(x, np.full_like(x, y), np.ones(x.size, bool), np.ones(x.size)) for y in (100.0, 200.0, 300.0)]
    confidence, reasons = lead_confidences(traces, layout, calibration)
    assert confidence["I"] > 0.9 and confidence["aVF"] > 0.9
    assert confidence["V1"] < 0.3 and confidence["V4"] == 0.0
    assert any("covers only 20 %" in why for why in reasons["V2"])


def test_qrs_like_deflections_count_heartbeats_not_edges() -> None:
    """Five sharp 1 mV spikes in a 10 s row count 5; a hill's outline (slopes, a step, a broad bump) counts none."""
    from digitize.calibrate import Calibration
    from digitize.pipeline import qrs_like_deflections
    from digitize.trace import RowTrace

    calibration = Calibration(4.0, 4.0, 25.0, 10.0, "assumed", 0.0, None)
    x = np.arange(0.0, 10 * calibration.px_per_s)
    t = x / calibration.px_per_s
    baseline = 300.0 + 5.0 * np.sin(2 * np.pi * 0.2 * t)
    spikes = sum(40.0 * np.exp(-(((t - c) / 0.02) ** 2)) for c in (1, 3, 5, 7, 9))  # 10 mm = 1 mV, QRS-narrow
    heart = RowTrace(x, baseline - spikes, np.ones(x.size, bool), np.ones(x.size))
    assert qrs_like_deflections(heart, calibration) == 5
    slope, step = 80.0 * np.clip(1 - np.abs(t - 4) / 3, 0, None), 30.0 * (t > 7)
    hill = 300.0 - slope - step - 30.0 * np.exp(-(((t - 8.5) / 0.5) ** 2))
    assert qrs_like_deflections(RowTrace(x, hill, np.ones(x.size, bool), np.ones(x.size)), calibration) < 3
