"""DataSynth: render real ECG signals as paper-ECG images with exact ground truth.

>>> from synth import synthesize, write_sample
>>> rendered = synthesize(record, seed=7, distortion="photo")          # doctest: +SKIP
>>> write_sample(rendered, "ecg.jpg", "ecg.json")                       # doctest: +SKIP

`render` prints a record as a `RenderSpec` says (`random_spec` draws varied ones); `distort` applies named
distortions or a level's mix (none, scan, photo, hard) and carries the ground truth (`Truth`) along;
`write_sample` writes the image, the truth JSON, the trace mask, the per-sample pixel positions and the plotted
signals. The file schema is in ``synth/README.md``.
"""

from synth.batch import find_records, plan_batch, run_batch
from synth.distort import DISTORTIONS, LEVELS, distort, level_recipe
from synth.labels import labels_for, load_label_table
from synth.layout import LAYOUTS
from synth.paper import PAPER_STYLES, PaperStyle
from synth.pipeline import synthesize
from synth.render import Rendered, render
from synth.spec import RenderSpec, random_spec
from synth.truth import Truth
from synth.writer import SamplePaths, write_sample

__all__ = [
    "DISTORTIONS",
    "LAYOUTS",
    "LEVELS",
    "PAPER_STYLES",
    "PaperStyle",
    "RenderSpec",
    "Rendered",
    "SamplePaths",
    "Truth",
    "distort",
    "find_records",
    "labels_for",
    "level_recipe",
    "load_label_table",
    "plan_batch",
    "random_spec",
    "render",
    "run_batch",
    "synthesize",
    "write_sample",
]
