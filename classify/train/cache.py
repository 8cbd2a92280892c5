"""Pre-computed network inputs of a rendered data set, so that a training epoch costs no image decoding.

For each manifest row, ``<cache_dir>/<stem>.npz`` holds (all ``uint8`` unless stated):

* ``tiles`` ``(3, 224, 224)``: the RGB-tiled input (:func:`classify.tiling.rgb_tiles`);
* ``global`` ``(3, 192, 256)``: the fusion network's whole-image input;
* ``canvas`` ``(3, 384, 512)`` and ``canvas_boxes`` (float32 ``(N, 4)``): the detector input and its beat boxes;
* ``crops`` ``(C, 3, 64, 64)`` and ``crop_mask`` (float32 ``(C,)``): up to :data:`CACHED_CROPS` beat crops in a
  random order, each box jittered by up to ±:data:`BOX_JITTER` of its size (a detector is never exact).

The same functions as the runtime (:mod:`classify.tiling`, :mod:`classify.fusion_inputs`) build them.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from classify.fusion_inputs import beat_crops, boxes_to_canvas, detector_canvas, global_image
from classify.preprocess import PreprocessMethod, prepare_image
from classify.tiling import rgb_tiles
from classify.train.data import read_beat_boxes

CACHED_CROPS = 24
BOX_JITTER = 0.04
PREPROCESS_FILE = "PREPROCESS"
"""Name of the file in a cache folder that records the preprocessing (``none`` / ``rectify``) it was built with."""


def cache_path(cache_dir: str | Path, image_path: str | Path) -> Path:
    """Where the cached inputs of ``image_path`` live."""
    return Path(cache_dir) / (Path(image_path).stem + ".npz")


def read_rgb(path: str | Path) -> np.ndarray:
    """An RGB ``uint8`` image from a file the data set wrote (trusted input; user images go through
    ``digitize.load.load_image``)."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(2, "cannot read image", str(path))
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def jitter_boxes(boxes: np.ndarray, rng: np.random.Generator, amount: float = BOX_JITTER) -> np.ndarray:
    """Move every box edge by up to ±``amount`` of the box's width (x) or height (y)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    size = np.concatenate([boxes[:, 2:] - boxes[:, :2]] * 2, axis=1)
    return boxes + rng.uniform(-amount, amount, boxes.shape).astype(np.float32) * size


def cache_inputs(image: np.ndarray, boxes: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """All cached arrays of one RGB image and its beat boxes (image px)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(boxes))
    crops, crop_mask = beat_crops(image, jitter_boxes(boxes[order], rng), max_beats=CACHED_CROPS)
    return {
        "tiles": rgb_tiles(image),
        "global": global_image(image),
        "canvas": detector_canvas(image),
        "canvas_boxes": boxes_to_canvas(boxes, image.shape[:2]),
        "crops": crops,
        "crop_mask": crop_mask,
    }


def cache_preprocess(cache_dir: str | Path) -> str:
    """The preprocessing a cache folder was built with (``"none"`` when not recorded)."""
    path = Path(cache_dir) / PREPROCESS_FILE
    return path.read_text().strip() if path.exists() else "none"


def _cache_one(item: tuple[str, str, int, str, str]) -> None:
    image_path, beats_path, seed, target, preprocess = item
    boxes = read_beat_boxes(beats_path) if beats_path else np.zeros((0, 4), np.float32)
    prepared = prepare_image(read_rgb(image_path), preprocess)  # type: ignore[arg-type]
    arrays = cache_inputs(prepared.image, prepared.boxes_from_input(boxes), seed)
    tmp = Path(target).with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(target)


def build_cache(
    manifest: pd.DataFrame,
    cache_dir: str | Path,
    *,
    preprocess: PreprocessMethod = "none",
    overwrite: bool = False,
    workers: int = 1,
) -> int:
    """Write the cache of every manifest row (from :func:`classify.train.data.read_manifest`); returns how many were
    (re)built. Existing files are kept unless ``overwrite``. With ``preprocess="rectify"`` every image is first
    rectified by the digitizer and its beat boxes are mapped along."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    recorded = cache_preprocess(cache_dir)
    if (cache_dir / PREPROCESS_FILE).exists() and recorded != preprocess and not overwrite:
        raise ValueError(f"{cache_dir} was built with preprocess={recorded!r}; use another folder or overwrite")
    (cache_dir / PREPROCESS_FILE).write_text(preprocess + "\n")
    todo = [
        (row.image, row.beats, int(row.seed), str(cache_path(cache_dir, row.image)), preprocess)
        for row in manifest.itertuples()
        if overwrite or not cache_path(cache_dir, row.image).exists()
    ]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_cache_one, todo, chunksize=8))
    else:
        for item in todo:
            _cache_one(item)
    built = len(todo)
    return built
