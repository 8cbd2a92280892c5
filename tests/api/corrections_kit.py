"""A DataSynth print (synthetic) whose printer puts aVR where the standard 3×4+1 has lead I and I where it has aVR,
and no lead labels printed (as some devices print, and as cropped photos show): the automatic digitizer falls back on
the standard template and names those two panels wrongly. Shared by the correction API and review-page tests."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitize.metrics import lead_score
from ecg.record import LEADS

SWAPPED_GRID = (("aVR", "I", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
SWAP = {"I": "aVR", "aVR": "I"}


@dataclass(frozen=True)
class SwappedPrint:
    png: bytes
    truth: np.ndarray
    """(12, n) mV: the record as plotted, NaN outside each lead's window."""
    fs: float
    truth_axis_deg: float


def swapped_print() -> SwappedPrint:
    """Render ``synth.demo.synthetic_record`` with :data:`SWAPPED_GRID` (+ lead II rhythm strip), clean, 200 dpi."""
    from analyze import measure
    from synth import layout as synth_layout
    from synth import synthesize
    from synth.demo import synthetic_record
    from synth.spec import RenderSpec

    record = synthetic_record(seed=3)
    name = "3x4+1-aVR-I-swapped"
    synth_layout.LAYOUTS[name] = synth_layout.LayoutDef(SWAPPED_GRID, ("II",))
    try:
        spec = RenderSpec(layout=name, dpi=200, label_position="none")
        rendered = synthesize(record, seed=1, distortion="none", spec=spec)
    finally:
        del synth_layout.LAYOUTS[name]
    ok, encoded = cv2.imencode(".png", rendered.image)  # DataSynth draws BGR, as OpenCV writes
    assert ok
    plotted = rendered.truth.plotted
    return SwappedPrint(encoded.tobytes(), plotted.signals, plotted.fs, float(measure(record).qrs_axis_deg))


def snr_of(truth: np.ndarray, estimate: np.ndarray, fs: float, leads: tuple[str, ...]) -> float:
    """Mean challenge SNR (dB; digitize.metrics) over ``leads``."""
    return float(np.mean([lead_score(truth[LEADS.index(n)], estimate[LEADS.index(n)], fs).snr_db for n in leads]))
