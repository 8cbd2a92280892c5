"""The one place where the classifiers' data preparation calls DataSynth (``synth``).

:func:`render_with_beats` renders a record with DataSynth's ``synthesize`` (random layout, paper and distortions
drawn from the seed) and returns the image with the heartbeat boxes mapped into its pixels. DataSynth's own batch
generator (``run_batch``) picks records in a random order and writes sidecars the classifiers do not need; the
classifiers need a fixed number of renders per record and split, so :mod:`classify.train.data` loops over records
itself.
"""

from __future__ import annotations

import numpy as np

from ecg.record import EcgRecord
from synth import LEVELS, synthesize
from synth.batch import LEVEL_MIX

DISTORT_LEVELS = (*LEVELS, "mix")
"""DataSynth's distortion levels, plus ``"mix"``: one level drawn per image with DataSynth's batch shares."""


def _pick_level(distort: str, rng: np.random.Generator) -> str:
    if distort not in DISTORT_LEVELS:
        raise ValueError(f"unknown distortion level {distort!r}; valid: {', '.join(DISTORT_LEVELS)}")
    if distort != "mix":
        return distort
    names = list(LEVEL_MIX)
    weights = np.array([LEVEL_MIX[n] for n in names], dtype=np.float64)
    return str(names[int(rng.choice(len(names), p=weights / weights.sum()))])


def render_with_beats(record: EcgRecord, *, seed: int, distort: str = "mix") -> tuple[np.ndarray, np.ndarray]:
    """Render ``record`` (random layout and distortions drawn from ``seed``) and return ``(image_bgr, beat_boxes)``.

    ``beat_boxes`` is float32 ``(N, 4)``: ``(x0, y0, x1, y1)`` of each complete heartbeat in the final image's
    pixels (after every geometric distortion). Boxes falling outside the image are dropped.
    """
    level = _pick_level(distort, np.random.default_rng([seed, 1]))
    rendered = synthesize(record, seed=seed, distortion=level)
    image, truth = rendered.image, rendered.truth
    points = truth.image_points()
    boxes = [truth.beat_box(beat, points) for beat in truth.beats]
    height, width = image.shape[:2]
    kept = []
    for x0, y0, x1, y1 in boxes:
        if not np.all(np.isfinite([x0, y0, x1, y1])):
            continue
        x0, x1 = max(0.0, x0), min(float(width - 1), x1)
        y0, y1 = max(0.0, y0), min(float(height - 1), y1)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            kept.append((x0, y0, x1, y1))
    return image, np.asarray(kept, dtype=np.float32).reshape(-1, 4)
