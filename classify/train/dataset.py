"""torch datasets over the cached inputs (:mod:`classify.train.cache`) of a rendered data set (training only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, WeightedRandomSampler

from classify.labels import TILED_CLASSES, tiled_target
from classify.train.cache import cache_path


def photometric_jitter(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random contrast (×0.8–1.2 about mid-grey), brightness (±20) and light Gaussian noise; float32 in [0, 1]."""
    x = pixels.astype(np.float32)
    x = (x - 128.0) * rng.uniform(0.8, 1.2) + 128.0 + rng.uniform(-20.0, 20.0)
    if rng.random() < 0.5:
        x = x + rng.normal(0.0, rng.uniform(1.0, 6.0), x.shape).astype(np.float32)
    return np.clip(x, 0.0, 255.0) / 255.0


def _to_float(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / 255.0


class _Cached(Dataset):
    def __init__(self, manifest: pd.DataFrame, cache_dir: str | Path, *, augment: bool = False, seed: int = 0) -> None:
        self.rows = manifest.reset_index(drop=True)
        self.paths = [cache_path(cache_dir, p) for p in self.rows["image"]]
        missing = [p for p in self.paths if not p.exists()]
        if missing:
            raise FileNotFoundError(
                2, f"{len(missing)} cached inputs missing (run classify.train.prepare)", str(missing[0])
            )
        self.augment = augment
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.rows)

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng((self.seed, self.epoch, index))

    def _pixels(self, pixels: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        return torch.from_numpy(photometric_jitter(pixels, rng) if self.augment else _to_float(pixels))


class TiledDataset(_Cached):
    """``(tiles float (3, 224, 224), multi-hot target (10,))`` per image."""

    def __init__(self, manifest: pd.DataFrame, cache_dir: str | Path, *, augment: bool = False, seed: int = 0) -> None:
        super().__init__(manifest, cache_dir, augment=augment, seed=seed)
        self.targets = np.array([tiled_target(labels) for labels in self.rows["tiled_labels"]], dtype=np.float32)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        with np.load(self.paths[index]) as data:
            tiles = data["tiles"]
        return self._pixels(tiles, self._rng(index)), torch.from_numpy(self.targets[index])

    def balanced_sampler(self, seed: int) -> WeightedRandomSampler:
        """Sampler drawing each image with weight max over its classes of 1/√(class count) (rare ones more often)."""
        counts = self.targets.sum(axis=0)
        per_class = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
        weights = (self.targets * per_class).max(axis=1)
        weights[weights == 0] = float(np.median(per_class[per_class > 0])) if (per_class > 0).any() else 1.0
        generator = torch.Generator().manual_seed(seed)
        return WeightedRandomSampler(torch.from_numpy(weights), len(weights), replacement=True, generator=generator)


class FusionDataset(_Cached):
    """``(global float (3, 192, 256), crops float (K, 3, 64, 64), mask (K,), label)`` per image; rows without a
    fusion label must be filtered out before. ``max_beats`` crops are drawn from the cached ones (random when
    augmenting, the first ones otherwise)."""

    def __init__(
        self, manifest: pd.DataFrame, cache_dir: str | Path, *, max_beats: int, augment: bool = False, seed: int = 0
    ) -> None:
        manifest = manifest[manifest["fusion_label"].notna()]
        super().__init__(manifest, cache_dir, augment=augment, seed=seed)
        self.labels = self.rows["fusion_label"].astype(np.float32).to_numpy()
        self.max_beats = max_beats

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        rng = self._rng(index)
        with np.load(self.paths[index]) as data:
            image, crops, mask = data["global"], data["crops"], data["crop_mask"]
        valid = np.flatnonzero(mask > 0)
        chosen = rng.permutation(valid)[: self.max_beats] if self.augment else valid[: self.max_beats]
        out_crops = np.full((self.max_beats, *crops.shape[1:]), 255, dtype=np.uint8)
        out_mask = np.zeros(self.max_beats, dtype=np.float32)
        out_crops[: len(chosen)] = crops[chosen]
        out_mask[: len(chosen)] = 1.0
        return (
            self._pixels(image, rng),
            self._pixels(out_crops, rng),
            torch.from_numpy(out_mask),
            torch.tensor(self.labels[index]),
        )


class BeatCropDataset(_Cached):
    """Single beat crops for pre-training the local branch: ``(crop float (3, 64, 64), record label)``.

    Every valid cached crop of every image is one item (weak label: the record's normal/abnormal label). The crops
    are held in memory (≈ 12 KB each; ~0.6 GB for 2,000 images × 24 crops).
    """

    def __init__(self, manifest: pd.DataFrame, cache_dir: str | Path, *, augment: bool = False, seed: int = 0) -> None:
        manifest = manifest[manifest["fusion_label"].notna()]
        super().__init__(manifest, cache_dir, augment=augment, seed=seed)
        labels = self.rows["fusion_label"].astype(np.float32).to_numpy()
        crops, crop_labels = [], []
        for i, path in enumerate(self.paths):
            with np.load(path) as data:
                valid = data["crops"][data["crop_mask"] > 0]
            crops.append(valid)
            crop_labels.append(np.full(len(valid), labels[i], dtype=np.float32))
        self.crops = np.concatenate(crops) if crops else np.zeros((0, 3, 64, 64), np.uint8)
        self.labels = np.concatenate(crop_labels) if crop_labels else np.zeros(0, np.float32)

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._pixels(self.crops[index], self._rng(index)), torch.tensor(self.labels[index])


class DetectorDataset(_Cached):
    """``(canvas float (3, 384, 512), {"boxes": (N, 4), "labels": (N,) ones})`` per image (torchvision format)."""

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        with np.load(self.paths[index]) as data:
            canvas, boxes = data["canvas"], data["canvas_boxes"].reshape(-1, 4)
        target = {
            "boxes": torch.from_numpy(boxes.astype(np.float32)),
            "labels": torch.ones(len(boxes), dtype=torch.int64),
        }
        return self._pixels(canvas, self._rng(index)), target


def detection_collate(batch: list) -> tuple[list, list]:
    """Keep images and targets as lists (torchvision detection models take lists)."""
    images, targets = zip(*batch, strict=True)
    return list(images), list(targets)


def class_counts(manifest: pd.DataFrame) -> dict[str, int]:
    """Images per tiled class in a manifest."""
    return {c: int(sum(c in labels for labels in manifest["tiled_labels"])) for c in TILED_CLASSES}
