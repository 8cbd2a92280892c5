"""Occlusion saliency for both classifiers, computed with onnxruntime (serving needs no torch).

Occlusion (Zeiler & Fergus, ECCV 2014): paint a square of the network input white (blank paper, i.e. remove the
ink there), run the network again, and record how much the probability of the decision drops. A large drop means
that region supported the decision. Every decision of a :class:`~classify.runtime.ClassificationResult` gets a map:

* tiled classifier: one occlusion pass over the three tiles (channel by channel, so each patch is one region of
  the image) gives maps for all ten classes at once; a map is returned per reported label (the top class when
  no label passed its threshold);
* fusion network: patches of the whole-image (global) input, plus the drop when each detected beat is removed
  from the local branch, drawn as the beat box's colour.

Maps are returned in input-image pixels, scaled to 0–1. Interpretability in the sense of the ECG-AIO article
(npj Digit. Med. 2025, s41746-025-01467-8): the overlay should highlight the waves a cardiologist would point at
(an irregular R-R run for AF, the ectopic beat for PVC); with this project's small training sets it may not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from classify.fusion_inputs import GLOBAL_SIZE, beat_crops, global_image
from classify.preprocess import Prepared
from classify.runtime import Beat, ClassificationResult, Classifier
from classify.tiling import TILE_SIZE, rgb_tiles, untile_channel_map

TILED_PATCH = 32
GLOBAL_PATCH = 48
BATCH = 16


@dataclass(frozen=True)
class Saliency:
    """One decision's occlusion map: ``heat`` float32 ``(H, W)`` in 0–1 over the input image, the decision's name
    (``tiled:AFIB``, ``fusion:abnormal``), the probability explained, and (fusion) each beat's importance."""

    decision: str
    probability: float
    heat: np.ndarray
    beat_importance: tuple[float, ...] = ()


def _occlusion_grid(height: int, width: int, patch: int) -> list[tuple[int, int]]:
    return [(y, x) for y in range(0, height, patch) for x in range(0, width, patch)]


def _normalise(heat: np.ndarray) -> np.ndarray:
    heat = np.clip(heat, 0.0, None)
    peak = float(heat.max())
    return (heat / peak).astype(np.float32) if peak > 0 else heat.astype(np.float32)


def tiled_saliency(
    classifier: Classifier, image: np.ndarray, labels: tuple[str, ...], *, patch: int = TILED_PATCH
) -> list[Saliency]:
    """Occlusion maps of the tiled classifier for ``labels`` (class names), in image px."""
    tiles = rgb_tiles(image)
    base = classifier.tiled_probabilities(tiles[None])[0]
    classes = list(classifier.tiled_thresholds)
    positions = [(c, y, x) for c in range(3) for y, x in _occlusion_grid(TILE_SIZE, TILE_SIZE, patch)]
    drops = np.zeros((len(positions), len(classes)), dtype=np.float32)
    for start in range(0, len(positions), BATCH):
        chunk = positions[start : start + BATCH]
        batch = np.repeat(tiles[None], len(chunk), axis=0)
        for i, (c, y, x) in enumerate(chunk):
            batch[i, c, y : y + patch, x : x + patch] = 255
        drops[start : start + len(chunk)] = base[None, :] - classifier.tiled_probabilities(batch)
    out = []
    for label in labels:
        k = classes.index(label)
        maps = np.zeros((3, TILE_SIZE, TILE_SIZE), dtype=np.float32)
        for (c, y, x), drop in zip(positions, drops[:, k], strict=True):
            maps[c, y : y + patch, x : x + patch] = drop
        heat = untile_channel_map(maps, image.shape[:2])
        out.append(Saliency(f"tiled:{label}", float(base[k]), _normalise(cv2.GaussianBlur(heat, (0, 0), 8))))
    return out


def fusion_saliency(
    classifier: Classifier, image: np.ndarray, beats: tuple[Beat, ...], *, patch: int = GLOBAL_PATCH
) -> Saliency:
    """Occlusion map of the fusion decision over the global input, and each beat's importance (drop when removed)."""
    glob = global_image(image)
    crops, mask = beat_crops(image, np.array([b.box for b in beats], dtype=np.float32).reshape(-1, 4))
    base = float(classifier.fusion_probabilities(glob[None], crops[None], mask[None])[0])
    abnormal = base >= classifier.fusion_threshold
    sign = 1.0 if abnormal else -1.0  # explain "normal" by what raises the abnormal probability when hidden
    positions = _occlusion_grid(*GLOBAL_SIZE, patch)
    height, width = GLOBAL_SIZE
    heat_small = np.zeros((height, width), dtype=np.float32)
    for start in range(0, len(positions), BATCH):
        chunk = positions[start : start + BATCH]
        batch = np.repeat(glob[None], len(chunk), axis=0)
        for i, (y, x) in enumerate(chunk):
            batch[i, :, y : y + patch, x : x + patch] = 255
        probs = classifier.fusion_probabilities(
            batch, np.repeat(crops[None], len(chunk), 0), np.repeat(mask[None], len(chunk), 0)
        )
        for (y, x), p in zip(chunk, probs, strict=True):
            heat_small[y : y + patch, x : x + patch] = sign * (base - float(p))
    importance = []
    n_beats = int(mask.sum())
    if n_beats:
        masks = np.repeat(mask[None], n_beats, axis=0)
        masks[np.arange(n_beats), np.arange(n_beats)] = 0.0
        probs = classifier.fusion_probabilities(
            np.repeat(glob[None], n_beats, 0), np.repeat(crops[None], n_beats, 0), masks
        )
        importance = [round(float(sign * (base - p)), 4) for p in probs]
    heat = cv2.resize(heat_small, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    decision = "fusion:abnormal" if abnormal else "fusion:normal"
    return Saliency(
        decision, base if abnormal else 1.0 - base, _normalise(cv2.GaussianBlur(heat, (0, 0), 8)), tuple(importance)
    )


def _to_input(saliency: Saliency, prepared: Prepared, shape: tuple[int, int]) -> Saliency:
    """A map computed on the prepared (e.g. rectified) image, warped back onto the input image."""
    if np.allclose(prepared.homography, np.eye(3)) and saliency.heat.shape == shape:
        return saliency
    heat = cv2.warpPerspective(saliency.heat, np.linalg.inv(prepared.homography), (shape[1], shape[0]))
    return replace(saliency, heat=np.clip(heat, 0.0, 1.0).astype(np.float32))


def explain(classifier: Classifier, image: np.ndarray, result: ClassificationResult) -> list[Saliency]:
    """Saliency for every decision of ``result`` on ``image`` (RGB, as classified), in input-image px."""
    prepared = classifier.prepare(image)
    shape = image.shape[:2]
    labels = result.tiled.labels or (max(result.tiled.probabilities, key=result.tiled.probabilities.get),)
    maps = []
    if "tiled" in prepared:  # a canonical-input tiled model reads the digitized record, not the image: no map here
        tiled_maps = tiled_saliency(classifier, prepared["tiled"].image, labels)
        maps = [_to_input(m, prepared["tiled"], shape) for m in tiled_maps]
    view = prepared["detector"]
    boxes = view.boxes_from_input(np.array([b.box for b in result.fusion.beats], dtype=np.float32).reshape(-1, 4))
    beats = tuple(
        replace(b, box=tuple(float(v) for v in box)) for b, box in zip(result.fusion.beats, boxes, strict=True)
    )
    maps.append(_to_input(fusion_saliency(classifier, view.image, beats), view, shape))
    return maps


def overlay(image: np.ndarray, saliency: Saliency, beats: tuple[Beat, ...] = ()) -> np.ndarray:
    """RGB ``uint8`` picture: the image with the heat map blended in (JET colours where salient) and beat boxes
    (green; for the fusion map, red = beats whose removal lowers the decision's probability most)."""
    heat = (saliency.heat * 255).astype(np.uint8)
    colour = cv2.cvtColor(cv2.applyColorMap(heat, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    alpha = (0.55 * saliency.heat)[..., None]
    out = (image.astype(np.float32) * (1 - alpha) + colour.astype(np.float32) * alpha).astype(np.uint8)
    importance = np.array(saliency.beat_importance, dtype=np.float32)
    top = float(importance.max()) if importance.size and importance.max() > 0 else 1.0
    thickness = max(1, round(max(image.shape[:2]) / 800))
    for i, beat in enumerate(beats):
        x0, y0, x1, y1 = (int(round(v)) for v in beat.box)
        if i < importance.size and importance[i] > 0:
            weight = float(importance[i] / top)
            colour_box = (255, int(200 * (1 - weight)), 0)
        else:
            colour_box = (0, 170, 0)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour_box, thickness)
    label = f"{saliency.decision} p={saliency.probability:.2f}"
    scale = max(image.shape[:2]) / 1500
    cv2.putText(
        out, label, (10, int(40 * scale) + 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), max(1, int(2 * scale))
    )
    return out


def write_overlays(
    out_dir: str | Path, stem: str, image: np.ndarray, result: ClassificationResult, saliencies: list[Saliency]
) -> list[Path]:
    """Write ``<stem>.<decision>.png`` overlays and ``<stem>.<decision>.heat.png`` maps; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for saliency in saliencies:
        name = saliency.decision.replace(":", "-")
        picture = overlay(image, saliency, result.fusion.beats)
        paths.append(out_dir / f"{stem}.{name}.png")
        cv2.imwrite(str(paths[-1]), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
        paths.append(out_dir / f"{stem}.{name}.heat.png")
        cv2.imwrite(str(paths[-1]), (saliency.heat * 255).astype(np.uint8))
    return paths
