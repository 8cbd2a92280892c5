"""The ground truth of a rendered image: what was plotted where, and every distortion applied since.

Everything is stored in *render* coordinates (px of the undistorted sheet, ``px = mm * dpi / 25.4``) together
with the `Warp` of geometric distortions; positions in the final image are obtained by mapping through the warp,
so they follow exactly the same mapping as the pixels. The file form is written by `synth.io`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecg.record import EcgRecord
from synth.geometry import Warp
from synth.spec import RenderSpec
from synth.text import Box, TextItem


@dataclass(frozen=True)
class PanelTruth:
    """One lead window as printed: record times and samples ``[sample_start, sample_stop)``, where time
    ``t_start_s`` is drawn (``x_start_px``), the 0 mV line (``baseline_px``), the row band ``box`` and the label."""

    index: int
    lead: str
    lead_id: int
    row: int
    column: int
    rhythm: bool
    t_start_s: float
    t_stop_s: float
    sample_start: int
    sample_stop: int
    x_start_px: float
    baseline_px: float
    box: Box
    label: TextItem | None


@dataclass(frozen=True)
class PulseTruth:
    """The calibration pulse of one row: the 1 mV × 0.2 s step's box and the polyline drawn (render px)."""

    row: int
    box: Box
    polyline: tuple[tuple[float, float], ...]
    height_mv: float
    width_s: float


@dataclass(frozen=True)
class BeatTruth:
    """A complete heartbeat inside one panel: R peak and span in record time, samples ``[start, stop)``."""

    panel: int
    lead: str
    r_peak_s: float
    start_s: float
    stop_s: float
    sample_start: int
    sample_stop: int


@dataclass(frozen=True)
class AppliedDistortion:
    """One distortion as applied: its name, strength (0–1) and the concrete parameters drawn for it."""

    name: str
    strength: float
    params: dict[str, Any]


@dataclass(frozen=True)
class Truth:
    """Ground truth of a rendered (and possibly distorted) image.

    ``points`` (N, 2) are the render-px positions of every plotted sample, ``point_panel`` and ``point_sample``
    say which panel and record sample each one is; `image_points` maps them into the current image.
    ``plotted`` is the source record with NaN outside the plotted windows.
    """

    spec: RenderSpec
    plotted: EcgRecord
    panels: tuple[PanelTruth, ...]
    pulses: tuple[PulseTruth, ...]
    beats: tuple[BeatTruth, ...]
    texts: tuple[TextItem, ...]
    points: np.ndarray
    point_panel: np.ndarray
    point_sample: np.ndarray
    warp: Warp
    r_peak_lead: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    distortions: tuple[AppliedDistortion, ...] = ()
    seed: int | None = None

    @property
    def render_size(self) -> tuple[int, int]:
        """Undistorted image size (width, height) px."""
        return self.warp.render_size

    @property
    def image_size(self) -> tuple[int, int]:
        """Current image size (width, height) px."""
        return self.warp.size

    @property
    def px_per_mm(self) -> tuple[float, float]:
        """Pixels per mm of paper in x and y before distortion."""
        return self.spec.px_per_mm, self.spec.px_per_mm

    def image_points(self) -> np.ndarray:
        """Positions (N, 2) of every plotted sample in the current image (after all geometric distortions)."""
        return self.warp.forward(self.points)

    def map_box(self, box: Box, samples_per_edge: int = 6) -> Box:
        """Axis-aligned bounding box in the current image of a render-coordinate box (edges sampled and mapped)."""
        if not self.warp.steps:
            return tuple(float(v) for v in box)  # type: ignore[return-value]
        x0, y0, x1, y1 = box
        t = np.linspace(0.0, 1.0, samples_per_edge)
        outline = np.concatenate(
            [
                np.stack([x0 + (x1 - x0) * t, np.full_like(t, y0)], 1),
                np.stack([x0 + (x1 - x0) * t, np.full_like(t, y1)], 1),
                np.stack([np.full_like(t, x0), y0 + (y1 - y0) * t], 1),
                np.stack([np.full_like(t, x1), y0 + (y1 - y0) * t], 1),
            ]
        )
        mapped = self.warp.forward(outline)
        return _bbox(mapped)

    def beat_box(self, beat: BeatTruth, image_points: np.ndarray | None = None) -> Box:
        """Bounding box of a beat's plotted samples in the current image, padded by half the trace width."""
        pts = self.image_points() if image_points is None else image_points
        sel = (
            (self.point_panel == beat.panel)
            & (self.point_sample >= beat.sample_start)
            & (self.point_sample < beat.sample_stop)
        )
        pad = self.spec.trace_thickness_px / 2 * self.warp_scale()
        x0, y0, x1, y1 = _bbox(pts[sel])
        return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)

    def warp_scale(self) -> float:
        """Approximate overall linear scale (current px per render px) at the sheet centre."""
        if not self.warp.steps:
            return 1.0
        w, h = self.render_size
        c = np.array([[w / 2, h / 2], [w / 2 + 100, h / 2], [w / 2, h / 2 + 100]])
        m = self.warp.forward(c)
        return float((np.linalg.norm(m[1] - m[0]) + np.linalg.norm(m[2] - m[0])) / 200)

    def panel_slices(self) -> list[slice]:
        """Slices of ``points`` belonging to each panel (points are stored panel by panel)."""
        bounds = np.searchsorted(self.point_panel, np.arange(len(self.panels) + 1))
        return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _bbox(points: np.ndarray) -> Box:
    if len(points) == 0:
        return (float("nan"),) * 4  # type: ignore[return-value]
    lo, hi = points.min(axis=0), points.max(axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
