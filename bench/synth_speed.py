"""Median time per image of DataSynth: 200 dpi, 3×4+1 layout, single process, per distortion level.

Uses a real PTB-XL record (PTB-XL 1.0.1, Wagner et al., Sci Data 7:154, 2020, CC BY 4.0) when
``<repo>/../shared/data`` is present, otherwise a synthetic record. Run:

    .venv/bin/python bench/synth_speed.py [--n 10] [--threads N]

"in memory" = render (+ distort); "+ files" adds writing the image (PNG clean, JPEG distorted) and the full
ground truth (JSON, mask PNG, points NPZ, signals CSV). The first call (imports, grid cache) is excluded.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from ecg.io import read_record
from synth import RenderSpec, distort, render, write_sample
from synth.demo import synthetic_record

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def load_record():
    path = SHARED / "ptbxl" / "records500" / "00000" / "00001_hr.hea"
    if path.exists():
        return read_record(path), f"PTB-XL {path.name}"
    return synthetic_record(), "synthetic record (shared data not found)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="images per level (default 10)")
    parser.add_argument("--threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's choice)")
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    record, source = load_record()
    spec = RenderSpec(layout="3x4+1", dpi=200)
    render(record, spec, seed=0)  # warm-up: imports, grid cache
    print(f"DataSynth speed, 200 dpi 3x4+1, {source}, {args.n} images per level, "
          f"cv2 threads {cv2.getNumThreads()}")
    print(f"{'level':8s} {'in memory (s)':>14s} {'+ files (s)':>12s}  image size")
    with tempfile.TemporaryDirectory() as tmp:
        for level in ("none", "scan", "photo", "hard"):
            mem, full, size = [], [], None
            for i in range(args.n):
                t0 = time.perf_counter()
                rendered = render(record, spec, np.random.default_rng(i), seed=i)
                if level != "none":
                    rendered = distort(rendered, level, np.random.default_rng(1000 + i))
                t1 = time.perf_counter()
                suffix = ".png" if level == "none" else ".jpg"
                write_sample(rendered, Path(tmp) / f"x{suffix}", Path(tmp) / "x.json")
                t2 = time.perf_counter()
                mem.append(t1 - t0)
                full.append(t2 - t0)
                size = rendered.image.shape[1::-1]
            print(f"{level:8s} {np.median(mem):14.3f} {np.median(full):12.3f}  {size[0]}x{size[1]}")


if __name__ == "__main__":
    main()
