"""Layout recognition on DataSynth renders of a synthetic record: 6×2, 12×1, 3×4+3 and the rhythm strip's lead."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitize.pipeline import digitize_image
from digitize.synth import RenderSpec, render
from digitize.synth.demo import synthetic_record


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
    from digitize.synth.layout import LAYOUTS, LayoutDef

    monkeypatch.setitem(LAYOUTS, "3x4+V1", LayoutDef(LAYOUTS["3x4+1"].grid, ("V1",)))  # a V1 rhythm strip
    result, _ = _digitize(record, layout="3x4+V1")
    rhythm = [p for p in result.layout.panels if p.row == 3]
    assert [p.lead for p in rhythm] == ["V1"]
    assert result.record.coverage()["V1"] > 0.95  # the 10 s strip, not just the 2.5 s panel
    assert result.record.coverage()["II"] < 0.3
