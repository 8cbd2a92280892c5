"""End-to-end time of the report pipeline (image → JSON + PDF), models loaded once.

Prints the median (and p90) over several runs per image, the median of each stage, and, as a baseline measured in
the same run, the digitizer alone on the same images (the stage every report needs), with the ratio.

    python bench/pipeline_speed.py [IMAGES...] [--runs 5]

Default images: the bundled sample photos, plus ECG-Image-Kit images from ../shared/data/kit-dev when present.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from digitize.load import load_image  # noqa: E402
from digitize.pipeline import digitize_image  # noqa: E402
from report.pdf import write_pdf  # noqa: E402
from report.pipeline import Pipeline  # noqa: E402


def default_images() -> list[Path]:
    images = sorted((REPO / "samples").glob("photo-*.jpg"))
    kit = REPO.parent / "shared" / "data" / "kit-dev"
    for name in ("d001.png", "d013.jpg", "d025.jpg"):
        if (kit / name).exists():
            images.append(kit / name)
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--saliency", action="store_true", help="include the occlusion saliency map")
    args = parser.parse_args()
    images = args.images or default_images()
    t0 = time.perf_counter()
    pipeline = Pipeline(saliency=args.saliency)
    print(f"models loaded in {time.perf_counter() - t0:.2f} s; classifiers: "
          f"{'available' if pipeline.classifier else 'UNAVAILABLE: ' + str(pipeline.classifier_error)[:80]}")
    pipeline.run(images[0])  # warm-up (first-call allocations)
    totals, baseline, stages = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for image in images:
                start = time.perf_counter()
                result = pipeline.run(image)
                write_pdf(result, Path(tmp) / "report.pdf")
                totals.append(time.perf_counter() - start)
                for stage, seconds in result.report.timings_s.items():
                    stages.setdefault(stage, []).append(seconds)
                start = time.perf_counter()
                digitize_image(load_image(image))
                baseline.append(time.perf_counter() - start)
    n = len(totals)
    p90 = sorted(totals)[max(0, int(0.9 * n) - 1)]
    print(f"images: {', '.join(p.name for p in images)}; {args.runs} runs each ({n} reports)")
    print(f"image → JSON + PDF: median {statistics.median(totals):.2f} s, p90 {p90:.2f} s  (target ≤ 1.5 s, issue 17)")
    print(f"baseline, digitizer alone: median {statistics.median(baseline):.2f} s; "
          f"ratio pipeline / digitizer {statistics.median(totals) / statistics.median(baseline):.2f}")
    print("stages (median s): " + ", ".join(f"{k} {statistics.median(v):.3f}" for k, v in stages.items()))


if __name__ == "__main__":
    main()
