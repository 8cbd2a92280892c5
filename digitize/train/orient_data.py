"""Data for the orientation network: the cached grey pages, their augmentation and the four-turn batches.

Each DataSynth render of the manifest is shrunk once to grey with its longest side :data:`digitize.orient.INPUT_SIDE`
px and cached as ``.npy`` (outside the repository). A batch holds a few pages, each turned by all four quarters
(``np.rot90`` k, label ``(4 - k) % 4``), every copy with its own light augmentation, then letterboxed to a square
exactly as the runtime does (:func:`digitize.orient.letterbox`). Used by :mod:`digitize.train.orient`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

from digitize.orient import INPUT_SIDE, letterbox, shrink_grey


def build_cache(manifest: Path, cache_dir: Path, split: str, side: int = INPUT_SIDE, log: Callable = print):
    """Grey images of one split shrunk to ``side`` px (longest side): ``(images (N, side, side) uint8, shapes (N, 2))``.

    Images are stored top-left in a zero square; ``shapes`` holds each one's (height, width). Read from
    ``cache_dir`` when present (and made from the same image list), otherwise built and saved there.
    """
    table = pd.read_csv(manifest)
    paths = [str(manifest.parent / p) for p in table.loc[table["split"] == split, "image"]]
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = cache_dir / f"{split}_{side}"
    list_path = stem.with_suffix(".json")
    if list_path.exists() and json.loads(list_path.read_text()) == paths:
        return np.load(f"{stem}_images.npy"), np.load(f"{stem}_shapes.npy")
    start = time.perf_counter()
    images = np.zeros((len(paths), side, side), np.uint8)
    shapes = np.zeros((len(paths), 2), np.int32)
    for i, path in enumerate(paths):
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        grey = shrink_grey(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), side)
        images[i, : grey.shape[0], : grey.shape[1]] = grey
        shapes[i] = grey.shape
        if (i + 1) % 500 == 0:
            log(f"cache {split}: {i + 1}/{len(paths)} images ({time.perf_counter() - start:.0f} s)")
    np.save(f"{stem}_images.npy", images)
    np.save(f"{stem}_shapes.npy", shapes)
    list_path.write_text(json.dumps(paths))
    log(f"cache {split}: {len(paths)} images in {time.perf_counter() - start:.0f} s → {stem}_*.npy")
    return images, shapes


def augment(grey: np.ndarray, rng: np.random.Generator, side: int) -> np.ndarray:
    """A distorted copy of an upright grey page (uint8), longest side ``side`` px again.

    Crop (up to 6 % per side, sometimes up to 25 % off the top or bottom, so the height of the trace block is no
    cue), rotation ±5° and scale, a photo-like perspective onto a grey desk, lower resolution, uneven light and a
    shadow, gamma, brightness, contrast, blur and noise.
    """
    out = grey
    height, width = out.shape
    if rng.random() < 0.6:  # crop up to 6 % from each side
        cut = rng.uniform(0.0, 0.06, 4)
        if rng.random() < 0.3:
            cut[int(rng.integers(2))] = rng.uniform(0.06, 0.25)
        top, bottom = int(cut[0] * height), height - int(cut[1] * height)
        left, right = int(cut[2] * width), width - int(cut[3] * width)
        out = out[top:bottom, left:right]
    h, w = out.shape
    if rng.random() < 0.25:  # photographed on a desk: perspective, page smaller than the frame
        corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        margin = np.float32([w, h]) * rng.uniform(0.02, 0.1, (4, 2)).astype(np.float32)
        inward = np.float32([[1, 1], [-1, 1], [-1, -1], [1, -1]])
        matrix = cv2.getPerspectiveTransform(corners, corners + inward * margin)
        desk = int(rng.integers(30, 140))
        out = cv2.warpPerspective(out, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=desk)
    elif rng.random() < 0.7:  # small rotation and scale about the centre
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-5, 5)), float(rng.uniform(0.92, 1.05)))
        out = cv2.warpAffine(out, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.2:  # lower resolution
        factor = rng.uniform(0.45, 0.8)
        small = cv2.resize(out, (max(8, int(w * factor)), max(8, int(h * factor))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    out = shrink_grey(np.ascontiguousarray(out), side)
    values = out.astype(np.float32) / 255.0
    if rng.random() < 0.35:  # uneven light: a linear gradient and perhaps a straight-edged shadow
        yy, xx = np.mgrid[0 : values.shape[0], 0 : values.shape[1]].astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * xx + np.sin(angle) * yy) / max(values.shape)
        light = 1.0 + rng.uniform(-0.3, 0.3) * (ramp - ramp.mean())
        if rng.random() < 0.5:
            edge = rng.uniform(-0.3, 0.3) * max(values.shape)
            shadow = (np.cos(angle + rng.uniform(-1, 1)) * (xx - xx.mean()) + np.sin(angle) * (yy - yy.mean())) > edge
            light = light * np.where(shadow, rng.uniform(0.55, 0.85), 1.0)
        values = values * cv2.GaussianBlur(light.astype(np.float32), (0, 0), 2.0)
    values = np.clip(values, 0.0, 1.0) ** float(rng.uniform(0.7, 1.4))
    values = values * float(rng.uniform(0.7, 1.2)) + float(rng.uniform(-0.12, 0.12))
    if rng.random() < 0.2:
        values = cv2.GaussianBlur(values, (0, 0), float(rng.uniform(0.4, 1.1)))
    if rng.random() < 0.3:
        values = values + rng.normal(0.0, rng.uniform(0.005, 0.04), values.shape).astype(np.float32)
    return np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)


def make_batch(
    images: np.ndarray,
    shapes: np.ndarray,
    n_images: int,
    rng: np.random.Generator,
    *,
    side: int = INPUT_SIDE,
    train: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_images`` random pages, each turned by k = 0…3: ``(x (4n, 1, side, side) float32 0–1, labels (4n,))``.

    The label is the number of ``np.rot90`` quarter turns that make the copy upright again, i.e. ``(4 - k) % 4``.
    """
    picks = rng.choice(len(images), size=n_images, replace=len(images) < n_images)
    xs, ys = [], []
    for index in picks:
        h, w = shapes[index]
        page = images[index, :h, :w]
        for k in range(4):
            copy = augment(page, rng, side) if train else page
            xs.append(letterbox(np.ascontiguousarray(np.rot90(copy, k)), side))
            ys.append((4 - k) % 4)
    return torch.from_numpy(np.stack(xs)[:, None]), torch.tensor(ys, dtype=torch.long)
