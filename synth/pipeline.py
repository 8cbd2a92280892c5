"""`synthesize`: one call from a record and a seed to a distorted image with its ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ecg.record import EcgRecord
from synth.distort import Level, Step, distort
from synth.render import Rendered, render
from synth.spec import RenderSpec, random_spec


def synthesize(
    record: EcgRecord,
    seed: int | None = None,
    distortion: Level | Sequence[Step] = "photo",
    *,
    spec: RenderSpec | None = None,
    labels: dict[str, Any] | None = None,
    **spec_choices: Any,
) -> Rendered:
    """Render ``record`` with a random (or given) spec, then distort it; everything follows from ``seed``.

    Parameters
    ----------
    record : EcgRecord
        Source signals, at least as long as the layout shows (10 s at 25 mm/s).
    seed : int, optional
        Seeds one ``numpy`` Generator used for the spec, the header text and every distortion.
    distortion : level or sequence of (name, strength)
        ``none``, ``scan``, ``photo``, ``hard`` or an explicit list (see `synth.distort`).
    spec : RenderSpec, optional
        Fixed print settings; otherwise drawn by `random_spec` (``spec_choices`` such as ``layout="6x2"``,
        ``dpi=200`` pin single choices).
    labels : dict, optional
        Labels to carry (default: those found in ``record.meta``).
    """
    rng = np.random.default_rng(seed)
    spec = spec or random_spec(rng, **spec_choices)
    rendered = render(record, spec, rng, labels=labels, seed=seed)
    if distortion == "none" or (not isinstance(distortion, str) and not distortion):
        return rendered
    return distort(rendered, distortion, rng)
