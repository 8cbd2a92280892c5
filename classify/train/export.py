"""Export trained networks to ONNX, check them against torch, and register them in ``models/manifest.json``.

Example::

    python -m classify.train.export --tiled runs/tiled --detector runs/detector --fusion runs/fusion \
        [--models-dir models]

Each run folder's ``model.pt`` + ``metrics.json`` (written by the training scripts) become ``models/<name>.onnx``
(opset 17, TorchScript-based exporter) and a manifest entry. Outputs of the exported graph are compared with torch
on fixed inputs (max absolute difference ≤ ``TOLERANCE``); the detector is checked on images giving many beats
and on a blank canvas.

Weights are stored as float16 initializers followed by a ``Cast`` to float32 (``--weights float16``, default):
files are half the size, computation stays in float32 and onnxruntime folds the casts when it loads the model.
The detector (≈ 6 MB) always keeps float32 weights: rounding would reorder its near-tied low-score boxes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import onnxruntime as ort
import torch
from torch import nn

from classify.fusion_inputs import BEAT_CROP_SIZE, DETECTOR_SIZE, GLOBAL_SIZE, MAX_BEATS
from classify.labels import FUSION_CLASSES, TILED_CLASSES
from classify.manifest import DEFAULT_MODELS_DIR, ModelEntry, sha256_file, write_entry
from classify.tiling import TILE_SIZE
from classify.train.export_checks import (
    check_session,
    detection_set_diff,
    detector_check_inputs,
    max_abs_diff,
    store_weights_fp16,
)
from classify.train.nets import FusionNet, beat_detector, fusion_net, tiled_resnet
from ecg.train.harness import export_onnx

OPSET = 17
TOLERANCE = 1e-3
MAX_FILE_BYTES = 60 * 1024 * 1024
WEIGHT_STORAGE = ("float16", "float32")


class TiledExport(nn.Module):
    """Tiled ResNet with sigmoid: ``tiles (B, 3, S, S)`` → ``probabilities (B, 10)`` (S = 224 raw, 448 canonical)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, tiles: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model(tiles))


class FusionExport(nn.Module):
    """Fusion network with sigmoid: ``(image, beats, beat_mask)`` → ``abnormal_probability (B,)``."""

    def __init__(self, model: FusionNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor, beats: torch.Tensor, beat_mask: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model(image, beats, beat_mask))


class DetectorExport(nn.Module):
    """Faster R-CNN on one canvas: ``canvas (1, 3, H, W)`` → ``boxes (N, 4)`` (canvas px), ``scores (N,)``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, canvas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        detections = self.model([canvas[0]])[0]
        return detections["boxes"], detections["scores"]


def _export(
    module: nn.Module,
    args: tuple,
    path: Path,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
) -> None:
    export_onnx(module, args, path, input_names, output_names, dynamic_axes, opset=OPSET)


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RuntimeError(
            f"{path} is {size / 2**20:.1f} MB; the limit per model file is {MAX_FILE_BYTES / 2**20:.0f} MB"
        )


def _ecg_like_tiles(size: int) -> torch.Tensor:
    """Two canonical inputs of a spiky 12-lead test signal (random noise saturates the sigmoids, hiding differences)."""
    import numpy as np

    from classify.canonical import canonical_tiles

    t = np.arange(5000) / 500.0
    out = []
    for rate in (1.1, 1.9):
        row = sum(
            np.exp(-(((t - k / rate - 0.3) / 0.02) ** 2)) - 0.2 * np.exp(-(((t - k / rate - 0.55) / 0.08) ** 2))
            for k in range(int(10 * rate))
        )
        signals = np.stack([row * (i - 4) / 6 for i in range(12)]).astype(np.float32)
        out.append(canonical_tiles(signals, 500.0, size))
    return torch.from_numpy(np.stack(out).astype(np.float32) / 255.0)


def export_tiled(
    model: nn.Module, path: Path, *, weights: str = "float16", size: int = TILE_SIZE, canonical: bool = False
) -> dict[str, Any]:
    """Export the tiled classifier (input side ``size`` px); returns ``{"max_abs_diff": …}`` on fixed inputs
    (random pixels, plus two canonical renders of a test signal for a canonical-input model)."""
    wrapper = TiledExport(model).eval()
    example = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    if canonical:
        example = torch.cat([example, _ecg_like_tiles(size)])
    _export(
        wrapper,
        (example,),
        path,
        ["tiles"],
        ["probabilities"],
        {"tiles": {0: "batch"}, "probabilities": {0: "batch"}},
    )
    if weights == "float16":
        store_weights_fp16(path)
    with torch.no_grad():
        expected = wrapper(example).numpy()
    got = check_session(path).run(None, {"tiles": example.numpy()})[0]
    return {"max_abs_diff": max_abs_diff(expected, got)}


def export_fusion(model: FusionNet, path: Path, *, weights: str = "float16") -> dict[str, Any]:
    """Export the fusion network; checks a fixed input with 0, 1 and all beat slots filled."""
    wrapper = FusionExport(model).eval()
    g = torch.Generator().manual_seed(0)
    image = torch.rand(3, 3, *GLOBAL_SIZE, generator=g)
    beats = torch.rand(3, MAX_BEATS, 3, BEAT_CROP_SIZE, BEAT_CROP_SIZE, generator=g)
    mask = torch.zeros(3, MAX_BEATS)
    mask[1, 0] = 1.0
    mask[2] = 1.0
    _export(
        wrapper,
        (image, beats, mask),
        path,
        ["image", "beats", "beat_mask"],
        ["abnormal_probability"],
        {
            "image": {0: "batch"},
            "beats": {0: "batch"},
            "beat_mask": {0: "batch"},
            "abnormal_probability": {0: "batch"},
        },
    )
    if weights == "float16":
        store_weights_fp16(path)
    with torch.no_grad():
        expected = wrapper(image, beats, mask).numpy()
    got = check_session(path).run(None, {"image": image.numpy(), "beats": beats.numpy(), "beat_mask": mask.numpy()})[0]
    return {"max_abs_diff": max_abs_diff(expected, got)}


def export_detector(model: nn.Module, path: Path, *, weights: str = "float16") -> dict[str, Any]:
    """Export the detector (traced on the fixed canvas) and compare torch vs onnxruntime on every check input."""
    wrapper = DetectorExport(model).eval()
    inputs = detector_check_inputs()
    _export(
        wrapper,
        (inputs["strip"],),
        path,
        ["canvas"],
        ["boxes", "scores"],
        {"boxes": {0: "detections"}, "scores": {0: "detections"}},
    )
    if weights == "float16":
        store_weights_fp16(path)
    session = check_session(path)
    report: dict[str, Any] = {"max_abs_diff": 0.0, "detections": {}}
    for name, canvas in inputs.items():
        with torch.no_grad():
            boxes, scores = wrapper(canvas)
        got_boxes, got_scores = session.run(None, {"canvas": canvas.numpy()})
        report["detections"][name] = [int(len(scores)), int(len(got_scores))]
        if name == "blank":
            # A uniform page makes every proposal tie, so which of the tied boxes survive top-k and NMS is
            # implementation-defined: only the counts are compared there.
            difference = 0.0 if len(scores) == len(got_scores) else float("inf")
        else:
            # boxes in px / 100: 0.1 px counts like 1e-3 of a probability
            difference = detection_set_diff(
                boxes.numpy() / 100.0,
                scores.numpy(),
                got_boxes / 100.0,
                got_scores,
                cap=model.roi_heads.detections_per_img,
            )
        report["max_abs_diff"] = max(report["max_abs_diff"], difference)
    return report


def _load_run(run_dir: Path) -> tuple[dict, dict, dict]:
    payload = torch.load(run_dir / "model.pt", map_location="cpu", weights_only=False)
    metrics = json.loads((run_dir / "metrics.json").read_text()) if (run_dir / "metrics.json").exists() else {}
    metrics.pop("history", None)
    return payload["state_dict"], payload["config"], metrics


def _manifest_data(config: dict) -> dict[str, Any]:
    if config.get("input") == "canonical":
        return {
            "npz": config.get("data", ""),
            "source": "PTB-XL 1.0.1 true signals (../shared/data/ptbxl), train+val of "
            "assign_splits(method='patients'), "
            "kit-dev patients excluded; rendered on the fly by classify.canonical after print masks and digitization "
            "errors (classify.train.canonical_augment); synthetic rhythms (classify.train.rhythm_synth) share "
            f"{config.get('synthetic')}",
            "validation": f"{config.get('folds')}-fold patient-wise out-of-fold predictions over the same records",
        }
    manifest = Path(config.get("manifest", ""))
    data: dict[str, Any] = {"manifest": str(manifest)}
    if manifest.exists():
        import pandas as pd

        table = pd.read_csv(manifest)
        data["images_per_split"] = table["split"].value_counts().to_dict()
        data["records_per_split"] = table.groupby("split")["ecg_id"].nunique().to_dict()
        data["source"] = "PTB-XL 1.0.1 records (../shared/data/ptbxl) rendered by DataSynth (synth)"
    return data


def _entry(name: str, path: Path, config: dict, metrics: dict, check: dict, weights: str, **fields: Any) -> ModelEntry:
    sha = sha256_file(path)
    date = dt.date.today().isoformat()
    return ModelEntry(
        name=name,
        file=path.name,
        sha256=sha,
        size_bytes=path.stat().st_size,
        version=f"{name}-{date}-{sha[:8]}",
        preprocess=config.get("preprocess", "none"),
        training={
            "command": config.get("command", ""),
            "seed": config.get("seed"),
            "data": _manifest_data(config),
            **({"device": config["device"]} if config.get("device") else {}),
        },
        metrics=metrics,
        export={
            "opset": OPSET,
            "weights": weights,
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "check": check,
            "date": date,
        },
        **fields,
    )


def export_run(kind: str, run_dir: Path, models_dir: Path, *, weights: str = "float16") -> ModelEntry:
    """Export one training run (``kind`` in tiled / detector / fusion) and write its manifest entry."""
    state_dict, config, metrics = _load_run(run_dir)
    path = models_dir / f"{kind}.onnx"
    if kind == "tiled":
        model = tiled_resnet(depth=config.get("depth", 18))
        model.load_state_dict(state_dict)
        size = int(config.get("input_size", TILE_SIZE))
        canonical = config.get("input") == "canonical"
        check = export_tiled(model.eval(), path, weights=weights, size=size, canonical=canonical)
        fields = dict(
            inputs={
                "tiles": {
                    "shape": ["batch", 3, size, size],
                    "dtype": "float32",
                    "range": [0, 1],
                    "preprocess": "classify.canonical.record_tiles(digitized record) / 255"
                    if canonical
                    else "classify.tiling.rgb_tiles / 255",
                }
            },
            outputs={"probabilities": {"shape": ["batch", len(TILED_CLASSES)], "activation": "sigmoid"}},
            classes=list(TILED_CLASSES),
            thresholds=config["thresholds"],
        )
    elif kind == "detector":
        model = beat_detector(backbone=config.get("backbone", "vgg-slim"))
        model.load_state_dict(state_dict)
        # float32 always: ≈ 6 MB anyway, and float16 rounding reorders near-tied boxes of a weakly trained detector
        weights = "float32"
        check = export_detector(model.eval(), path, weights=weights)
        fields = dict(
            inputs={
                "canvas": {
                    "shape": [1, 3, *DETECTOR_SIZE],
                    "dtype": "float32",
                    "range": [0, 1],
                    "preprocess": "classify.fusion_inputs.detector_canvas / 255",
                }
            },
            outputs={
                "boxes": {"shape": ["detections", 4], "units": "canvas px (x0, y0, x1, y1)"},
                "scores": {"shape": ["detections"]},
            },
            classes=["beat"],
            thresholds={"score": config["score_threshold"]},
        )
    elif kind == "fusion":
        model = fusion_net()
        model.load_state_dict(state_dict)
        check = export_fusion(model.eval(), path, weights=weights)
        fields = dict(
            inputs={
                "image": {
                    "shape": ["batch", 3, *GLOBAL_SIZE],
                    "dtype": "float32",
                    "range": [0, 1],
                    "preprocess": "classify.fusion_inputs.global_image / 255",
                },
                "beats": {
                    "shape": ["batch", MAX_BEATS, 3, BEAT_CROP_SIZE, BEAT_CROP_SIZE],
                    "dtype": "float32",
                    "range": [0, 1],
                    "preprocess": "classify.fusion_inputs.beat_crops / 255",
                },
                "beat_mask": {"shape": ["batch", MAX_BEATS], "dtype": "float32"},
            },
            outputs={"abnormal_probability": {"shape": ["batch"], "activation": "sigmoid"}},
            classes=list(FUSION_CLASSES),
            thresholds={"abnormal": config["threshold"]},
        )
    else:
        raise ValueError(f"unknown model kind {kind!r}; valid: tiled, detector, fusion")
    if check["max_abs_diff"] > TOLERANCE:
        raise RuntimeError(f"{path}: ONNX and torch outputs differ by {check['max_abs_diff']:.2e} > {TOLERANCE}")
    _check_size(path)
    entry = _entry(kind, path, config, metrics, check, weights, **fields)
    write_entry(models_dir, entry)
    return entry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export trained classifier runs to ONNX and update the manifest.")
    parser.add_argument("--tiled", type=Path, help="run folder of classify.train.tiled")
    parser.add_argument("--detector", type=Path, help="run folder of classify.train.detector")
    parser.add_argument("--fusion", type=Path, help="run folder of classify.train.fusion")
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--weights", choices=WEIGHT_STORAGE, default="float16")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    runs = {k: v for k, v in (("tiled", args.tiled), ("detector", args.detector), ("fusion", args.fusion)) if v}
    if not runs:
        parser.error("give at least one of --tiled, --detector, --fusion")
    for kind, run_dir in runs.items():
        entry = export_run(kind, run_dir, args.models_dir, weights=args.weights)
        print(
            f"{entry.file}: {entry.size_bytes / 2**20:.1f} MB, sha256 {entry.sha256[:12]}…, "
            f"check {json.dumps(entry.export['check'])}"
        )


if __name__ == "__main__":
    main()
