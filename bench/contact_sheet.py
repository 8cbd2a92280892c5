"""Make ``docs/contact_sheet.png``: 12 varied DataSynth images (layouts, papers, distortion levels) on one page.

Source signals: PTB-XL 1.0.1 (Wagner P, Strodthoff N, Bousseljot R-D, et al. PTB-XL, a large publicly available
electrocardiography dataset. Sci Data 7:154, 2020; doi:10.13026/x4td-x982), CC BY 4.0, read from
``<repo>/../shared/data/ptbxl``; without it the bundled ``samples/ptbxl-*.hea`` records (same source) are used.

    .venv/bin/python bench/contact_sheet.py [-o docs/contact_sheet.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from ecg.io import read_record
from synth import synthesize

REPO = Path(__file__).resolve().parents[1]
SHARED_PTBXL = REPO / ".." / "shared" / "data" / "ptbxl" / "records500"

TILES = [  # (layout, paper, distortion level, speed mm/s, gain mm/mV)
    ("3x4+1", "red", "none", 25, 10),
    ("3x4+1", "pink", "scan", 25, 10),
    ("3x4+1", "thermal", "photo", 25, 10),
    ("6x2", "green", "none", 25, 10),
    ("12x1", "grey", "scan", 25, 5),
    ("3x4+3", "blue", "photo", 25, 10),
    ("3x4", "bw", "scan", 50, 10),
    ("3x4+1", "none", "photo", 25, 20),
    ("6x2", "red", "hard", 25, 10),
    ("3x4+1", "green", "hard", 25, 10),
    ("12x1", "pink", "photo", 25, 5),
    ("3x4+3", "red", "hard", 25, 10),
]
TILE_W, TILE_H = 560, 430


def record_paths() -> list[Path]:
    if SHARED_PTBXL.is_dir():
        return sorted(SHARED_PTBXL.rglob("*.hea"))[:12]
    return sorted((REPO / "samples").glob("ptbxl-*.hea"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=REPO / "docs" / "contact_sheet.png")
    args = parser.parse_args()
    paths = record_paths()
    tiles = []
    for i, (layout, paper, level, speed, gain) in enumerate(TILES):
        record = read_record(paths[i % len(paths)])
        rendered = synthesize(record, seed=100 + i, distortion=level, layout=layout, paper=paper,
                              speed_mm_s=float(speed), gain_mm_mv=float(gain), dpi=200)
        image = rendered.image
        scale = min(TILE_W / image.shape[1], TILE_H / image.shape[0])
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        tile = np.full((TILE_H + 22, TILE_W, 3), 255, np.uint8)
        tile[: small.shape[0], : small.shape[1]] = small
        caption = f"{layout}  {paper}  {level}  {speed} mm/s {gain} mm/mV  ({paths[i % len(paths)].stem})"
        cv2.putText(tile, caption, (4, TILE_H + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(cv2.copyMakeBorder(tile, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=(200, 200, 200)))
    rows = [np.hstack(tiles[r * 3 : r * 3 + 3]) for r in range(4)]
    sheet = np.vstack(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # a 256-colour palette keeps the PNG small (noisy photos compress badly); Pillow comes with reportlab
    from PIL import Image

    Image.fromarray(sheet[..., ::-1]).quantize(256, dither=Image.Dither.NONE).save(args.out, optimize=True)
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]}, {args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
