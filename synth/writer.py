"""Write a rendered sample to disk: the image, the ground-truth JSON and its sidecars.

For ``truth.json`` the sidecars are ``truth_mask.png`` (uint8 lead ids), ``truth_points.npz`` (every plotted
sample's pixel position) and ``truth_signals.csv`` (the signals exactly as plotted, CSV contract, NaN = empty
cell). The schema is described in ``synth/README.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ecg.errors import EcgInputError
from ecg.io import write_record
from ecg.record import LEADS
from synth.render import Rendered
from synth.text import Box, TextItem
from synth.truth import Truth

SCHEMA = "ecgscreen.synth.truth/1"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class SamplePaths:
    """Files written for one sample."""

    image: Path
    truth: Path
    mask: Path
    points: Path
    signals: Path


def sidecar_paths(image: Path, truth: Path) -> SamplePaths:
    """Where the sidecars of ``truth`` go (same folder and stem)."""
    stem = truth.with_suffix("")
    return SamplePaths(
        image=image,
        truth=truth,
        mask=stem.parent / f"{stem.name}_mask.png",
        points=stem.parent / f"{stem.name}_points.npz",
        signals=stem.parent / f"{stem.name}_signals.csv",
    )


def write_sample(rendered: Rendered, image_path: str | Path, truth_path: str | Path | None = None,
                 *, jpeg_quality: int = 95) -> SamplePaths:
    """Write the image (PNG or JPEG by suffix) and, unless ``truth_path`` is None, the ground truth files."""
    image_path = Path(image_path)
    if image_path.suffix.lower() not in IMAGE_SUFFIXES:
        raise EcgInputError(f"{image_path.name}: image must end in one of {', '.join(IMAGE_SUFFIXES)}")
    image_path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if image_path.suffix.lower() != ".png" else []
    if not cv2.imwrite(str(image_path), rendered.image, params):
        raise OSError(f"could not write {image_path}")
    truth_path = Path(truth_path) if truth_path is not None else image_path.with_suffix(".json")
    if truth_path.suffix.lower() != ".json":
        raise EcgInputError(f"{truth_path.name}: ground truth must be a .json file")
    paths = sidecar_paths(image_path, truth_path)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(paths.mask), rendered.mask)
    points = rendered.truth.image_points()
    _write_points(rendered.truth, points, paths.points)
    write_record(rendered.truth.plotted, paths.signals)
    document = truth_document(rendered.truth, paths, points)
    truth_path.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return paths


def truth_document(truth: Truth, paths: SamplePaths, points: np.ndarray | None = None) -> dict[str, Any]:
    """The JSON-ready ground truth (boxes in final-image px unless named ``*_render``)."""
    points = truth.image_points() if points is None else points
    spec = truth.spec
    rel = {name: _relative(getattr(paths, name), paths.truth.parent)
           for name in ("image", "mask", "points", "signals")}
    slices = truth.panel_slices()
    return {
        "schema": SCHEMA,
        "files": rel,
        "image_size": list(truth.image_size),
        "render_size": list(truth.render_size),
        "seed": truth.seed,
        "labels": _json_safe(truth.labels),
        "source": {"fs": truth.plotted.fs, "n_samples": truth.plotted.n_samples,
                   "meta": _json_safe(truth.plotted.meta)},
        "render": {
            "layout": spec.layout,
            "dpi": spec.dpi,
            "px_per_mm": {"x": truth.px_per_mm[0], "y": truth.px_per_mm[1]},
            "speed_mm_s": spec.speed_mm_s,
            "gain_mm_mv": spec.gain_mm_mv,
            "start_s": spec.start_s,
            "duration_s": spec.duration_s,
            "paper_size": spec.paper_size,
            "paper": asdict(spec.paper),
            "trace_color_rgb": list(spec.trace_color),
            "trace_width_mm": spec.trace_width_mm,
            "trace_thickness_px": spec.trace_thickness_px,
            "font": spec.font,
            "label_position": spec.label_position,
        },
        "mask": {"lead_ids": {lead: i + 1 for i, lead in enumerate(LEADS)}, "background": 0,
                 "overlap": "the panel drawn later (later in layout order) wins"},
        "r_peak_lead": truth.r_peak_lead,
        "panels": [
            {
                "index": p.index, "lead": p.lead, "lead_id": p.lead_id, "row": p.row, "column": p.column,
                "rhythm": p.rhythm, "t_start_s": p.t_start_s, "t_stop_s": p.t_stop_s,
                "sample_start": p.sample_start, "sample_stop": p.sample_stop,
                "x_start_px_render": p.x_start_px, "baseline_px_render": p.baseline_px,
                "box_render": _box(p.box), "box": _box(truth.map_box(p.box)),
                "label": _text(truth, p.label) if p.label else None,
                "points": [slices[p.index].start, slices[p.index].stop],
            }
            for p in truth.panels
        ],
        "pulses": [
            {"row": q.row, "height_mv": q.height_mv, "width_s": q.width_s, "box_render": _box(q.box),
             "box": _box(truth.map_box(q.box))}
            for q in truth.pulses
        ],
        "beats": [
            {"panel": b.panel, "lead": b.lead, "r_peak_s": b.r_peak_s, "start_s": b.start_s, "stop_s": b.stop_s,
             "sample_start": b.sample_start, "sample_stop": b.sample_stop, "box": _box(truth.beat_box(b, points))}
            for b in truth.beats
        ],
        "texts": [_text(truth, t) for t in truth.texts],
        "distortions": [{"name": d.name, "strength": d.strength, "params": _json_safe(d.params)}
                        for d in truth.distortions],
    }


def _write_points(truth: Truth, points: np.ndarray, path: Path) -> None:
    w, h = truth.image_size
    visible = (points[:, 0] >= -0.5) & (points[:, 0] <= w - 0.5) & (points[:, 1] >= -0.5) & (points[:, 1] <= h - 0.5)
    np.savez_compressed(
        path,
        xy=points.astype(np.float32),
        xy_render=truth.points.astype(np.float32),
        panel=truth.point_panel.astype(np.int16),
        sample=truth.point_sample.astype(np.int32),
        visible=visible,
    )


def _text(truth: Truth, item: TextItem) -> dict[str, Any]:
    return {"text": item.text, "kind": item.kind, "box_render": _box(item.box), "box": _box(truth.map_box(item.box))}


def _box(box: Box) -> list[float] | None:
    if any(not math.isfinite(v) for v in box):
        return None
    return [round(float(v), 3) for v in box]


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


def _json_safe(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples; drop what JSON cannot hold (replaced by its string)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)
