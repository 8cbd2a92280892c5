"""Train the 4-way page orientation network (quarter turns 0/1/2/3 that make a page upright) on CPU; export to ONNX.

Data: the DataSynth renders of ``--manifest`` (PTB-XL records drawn with mixed layouts, papers, scan and photo
distortions; all upright). Each image is shrunk once to grey with its longest side :data:`digitize.orient.INPUT_SIDE`
px and cached in ``--cache`` (``.npy``, outside the repository). A batch holds a few images, each turned by all four
quarters (``np.rot90`` k, label k), every copy with its own light augmentation (crop up to 6 % per side, rotation
±5°, scale, brightness, contrast, gamma, blur, noise, lower resolution), then letterboxed to a square exactly as the
runtime does (:func:`digitize.orient.letterbox`). Trains on ``split == "train"``, validates on ``split == "val"``.

Model: six strided conv blocks (3×3, batch norm, ReLU; 16→128 channels), a 4×4 spatial map flattened into one linear
layer (the position of pulses, labels and the rhythm strip matters, so it is not averaged away). Cross-entropy,
AdamW, cosine learning rate over the time budget. ``RUN_DIR/last.ckpt`` every few minutes (``--resume`` continues
with the budget left; a new ``--time-budget-min`` replaces the total), ``RUN_DIR/best.ckpt`` at the best validation
accuracy, ``RUN_DIR/train.log``. At the end the best checkpoint is exported (opset 17), onnxruntime is checked
against torch (≤ 1e-4) and ``models/orient.onnx`` is registered in ``models/manifest.json`` with the validation
metrics and the confidence threshold (lowest probability ≥ ``--min-threshold`` above every wrong validation call).

Usage::

    python -m digitize.train.orient RUN_DIR --time-budget-min 25 --threads 1 --seed 0
    python -m digitize.train.orient RUN_DIR --resume --threads 2
    python -m digitize.train.orient RUN_DIR --export-only
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from digitize.orient import INPUT_SIDE, MODEL_NAME, letterbox, shrink_grey
from ecg.train.harness import (
    RunState,
    TimeBudget,
    command_line,
    load_checkpoint,
    onnx_agrees,
    read_state,
    save_checkpoint,
    set_cosine_lr,
    start_run,
)
from ecg.train.harness import export_onnx as harness_export

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = Path("/work/cache/cls/manifest.csv")
DEFAULT_CACHE = Path("/work/cache/orient")
WIDTHS = (16, 24, 48, 64, 96, 128)
EVAL_EVERY_S = 240.0
SAVE_EVERY_S = 120.0


# --- data ---------------------------------------------------------------------------------------------------------


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


# --- model --------------------------------------------------------------------------------------------------------


class OrientNet(nn.Module):
    """Strided conv blocks → 4×4 map → linear layer: logits of the 4 quarter-turn classes."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS, dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for i, width in enumerate(widths):
            layers += [
                nn.Conv2d(channels, width, 5 if i == 0 else 3, stride=2, padding=2 if i == 0 else 1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            if 0 < i < len(widths) - 1:
                layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
            channels = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels * 16, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)))


def train_step(model: nn.Module, optimiser: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """One cross-entropy step; the batch's loss before the update."""
    model.train()
    loss = F.cross_entropy(model(x), y, label_smoothing=0.02)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return float(loss.item())


@torch.no_grad()
def predict(model: nn.Module, images: np.ndarray, shapes: np.ndarray, side: int = INPUT_SIDE, batch: int = 64):
    """Softmax ``(4N, 4)`` and labels ``(4N,)`` of every page turned by each quarter (no augmentation)."""
    model.eval()
    probs, labels = [], []
    for start in range(0, len(images), batch // 4):
        xs, ys = [], []
        for index in range(start, min(len(images), start + batch // 4)):
            h, w = shapes[index]
            for k in range(4):
                xs.append(letterbox(np.ascontiguousarray(np.rot90(images[index, :h, :w], k)), side))
                ys.append((4 - k) % 4)
        probs.append(torch.softmax(model(torch.from_numpy(np.stack(xs)[:, None])), 1).numpy())
        labels.append(np.array(ys))
    return np.concatenate(probs), np.concatenate(labels)


def choose_threshold(probs: np.ndarray, labels: np.ndarray, minimum: float) -> float:
    """Lowest softmax maximum (≥ ``minimum``, two decimals up to 0.999) above which no call is wrong."""
    top = probs.max(1)
    wrong = probs.argmax(1) != labels
    threshold = max(minimum, float(top[wrong].max()) + 0.005) if wrong.any() else minimum
    return float(min(0.999, math.ceil(threshold * 1000) / 1000))


def metrics_of(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """Accuracy (overall and per class), coverage and wrong calls above ``threshold``, mean NLL."""
    calls = probs.argmax(1)
    sure = probs.max(1) >= threshold
    per_class = {str(c): float((calls[labels == c] == c).mean()) for c in range(4) if (labels == c).any()}
    return {
        "accuracy": float((calls == labels).mean()),
        "accuracy_per_class": per_class,
        "nll": float(-np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-9)).mean()),
        "threshold": threshold,
        "confident_share": float(sure.mean()),
        "confident_accuracy": float((calls[sure] == labels[sure]).mean()) if sure.any() else None,
        "confident_wrong": int((sure & (calls != labels)).sum()),
        "samples": int(len(labels)),
    }


# --- training -----------------------------------------------------------------------------------------------------


def train(args: argparse.Namespace) -> Path:
    """Run (or resume) training; returns the run folder."""
    run = Path(args.run_dir)
    ckpt_path, best_path, config_path = run / "last.ckpt", run / "best.ckpt", run / "config.json"
    command = command_line("digitize.train.orient")
    resuming = args.resume and ckpt_path.exists()
    if resuming:
        config = json.loads(config_path.read_text())
        config["commands"].append(command)
        config["threads"].append(args.threads)
        if args.time_budget_min_given:
            config["time_budget_min"] = args.time_budget_min
    else:
        config = {
            "seed": args.seed,
            "manifest": str(args.manifest),
            "cache": str(args.cache),
            "side": INPUT_SIDE,
            "widths": list(WIDTHS),
            "images_per_batch": args.images_per_batch,
            "lr": args.lr,
            "time_budget_min": args.time_budget_min,
            "threads": [args.threads],
            "min_threshold": args.min_threshold,
            "init_from": str(args.init_from) if args.init_from else None,
            "commands": [command],
        }
    logger = start_run(run, "digitize.orient", seed=config["seed"], threads=args.threads)
    log = logger.info
    config_path.write_text(json.dumps(config, indent=2))
    log(f"config {json.dumps(config)}")
    rng = np.random.default_rng(config["seed"])
    train_images, train_shapes = build_cache(Path(config["manifest"]), Path(config["cache"]), "train", log=log)
    val_images, val_shapes = build_cache(Path(config["manifest"]), Path(config["cache"]), "val", log=log)
    log(f"{len(train_images)} training pages, {len(val_images)} validation pages (× 4 turns)")
    model = OrientNet(tuple(config["widths"]))
    optimiser = torch.optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=1e-4)
    modules = {"model": model, "optimiser": optimiser}
    state = RunState(extra={"best": {"accuracy": -1.0, "nll": math.inf}})
    if config.get("init_from") and not resuming:
        load_checkpoint(Path(config["init_from"]), {"model": model}, restore_rng=False)
        log(f"initialised from {config['init_from']}")
    if resuming:
        state = load_checkpoint(ckpt_path, modules)
        rng = np.random.default_rng([config["seed"], state.step])
        log(f"resumed at step {state.step} after {state.elapsed_s / 60:.1f} min; best so far {state.extra['best']}")
    budget = TimeBudget(config["time_budget_min"], state.elapsed_s)
    last_save = last_eval = time.perf_counter()
    running = None

    def save(path: Path) -> None:
        state.elapsed_s = budget.elapsed_s
        save_checkpoint(path, state, modules)

    def evaluate_and_keep() -> None:
        probs, labels = predict(model, val_images, val_shapes)
        metrics = metrics_of(probs, labels, config["min_threshold"])
        log(f"val step {state.step}: {json.dumps(metrics)}")
        best = state.extra["best"]
        if (metrics["accuracy"], -metrics["nll"]) > (best["accuracy"], -best["nll"]):
            state.extra["best"] = {"accuracy": metrics["accuracy"], "nll": metrics["nll"], "step": state.step}
            save(best_path)
            log(f"new best at step {state.step}")

    while not budget.expired():
        lr = set_cosine_lr(optimiser, config["lr"], budget.fraction, warmup=0.0, floor=0.0)
        x, y = make_batch(train_images, train_shapes, config["images_per_batch"], rng)
        value = train_step(model, optimiser, x, y)
        state.step += 1
        running = value if running is None else 0.97 * running + 0.03 * value
        if state.step % 20 == 0:
            log(f"step {state.step} loss {running:.4f} lr {lr:.2e} elapsed {budget.elapsed_s / 60:.1f} min")
        if time.perf_counter() - last_eval > EVAL_EVERY_S:
            evaluate_and_keep()
            last_eval = time.perf_counter()
        if time.perf_counter() - last_save > SAVE_EVERY_S:
            save(ckpt_path)
            last_save = time.perf_counter()
    evaluate_and_keep()
    save(ckpt_path)
    log(f"done after {state.step} steps, {budget.elapsed_s / 60:.1f} min; best {state.extra['best']}")
    if not args.no_export:
        path = export(run, Path(args.models_dir), log)
        log(f"exported to {path}")
    return run


def export_onnx(model: nn.Module, path: Path, side: int = INPUT_SIDE, opset: int = 17) -> float:
    """Write ``model`` to ONNX (input ``image`` (batch, 1, side, side), output ``logits`` (batch, 4)).

    Returns the largest |onnxruntime − torch| logit difference on a fixed input (raises when above 1e-4).
    """
    axes = {"image": {0: "batch"}, "logits": {0: "batch"}}
    harness_export(model, (torch.zeros(1, 1, side, side),), Path(path), ["image"], ["logits"], axes, opset=opset)
    x = np.random.default_rng(0).uniform(0.0, 1.0, (2, 1, side, side)).astype(np.float32)
    return onnx_agrees(model, Path(path), {"image": x}, tolerance=1e-4)


def export(
    run: Path, models_dir: Path, log: Callable = print, min_threshold: float | None = None, command: str = ""
) -> Path:
    """Export ``run/best.ckpt`` to ``models_dir/orient.onnx``, choose the threshold on validation, register it.

    ``min_threshold`` (default: the run's ``--min-threshold``) is the lowest confidence threshold allowed.
    """
    import onnxruntime as ort

    from ecg.manifest import ModelEntry, sha256_file, write_entry

    config = json.loads((run / "config.json").read_text())
    model = OrientNet(tuple(config["widths"]))
    best_state = load_checkpoint(run / "best.ckpt", {"model": model}, restore_rng=False)
    val_images, val_shapes = build_cache(Path(config["manifest"]), Path(config["cache"]), "val", log=log)
    probs, labels = predict(model, val_images, val_shapes)
    minimum = config["min_threshold"] if min_threshold is None else min_threshold
    threshold = choose_threshold(probs, labels, minimum)
    metrics = {"split": "val", "pages": int(len(val_images)), **metrics_of(probs, labels, threshold)}
    metrics.update({"best_step": best_state.step, "min_threshold": minimum})
    last = read_state(run / "last.ckpt")
    metrics.update({"steps": last.step, "train_minutes": round(last.elapsed_s / 60, 1)})
    extra_path = run / "bench.json"
    if extra_path.exists():
        metrics["bench"] = json.loads(extra_path.read_text())
    log(f"validation of the exported model: {json.dumps(metrics)}")
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{MODEL_NAME}.onnx"
    tmp = path.with_suffix(".tmp.onnx")
    diff = export_onnx(model, tmp, config["side"])
    tmp.replace(path)
    table = pd.read_csv(config["manifest"])
    record = ModelEntry(
        name=MODEL_NAME,
        file=path.name,
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        version=f"{MODEL_NAME}-{time.strftime('%Y-%m-%d')}-{sha256_file(path)[:8]}",
        inputs={
            "image": {
                "shape": ["batch", 1, config["side"], config["side"]],
                "dtype": "float32",
                "range": [0, 1],
                "preprocess": "digitize.orient.model_input: grey, longest side shrunk to the square's side "
                "(INTER_AREA), centred on black (aspect ratio kept), /255",
            }
        },
        outputs={"logits": {"shape": ["batch", 4], "activation": "softmax"}},
        preprocess="none",
        classes=["0", "1", "2", "3"],
        thresholds={"confident": threshold},
        training={
            "command": " && ".join(config["commands"] + ([command] if command else [])),
            "seed": config["seed"],
            "threads": config["threads"],
            "data": {
                "manifest": config["manifest"],
                "pages_per_split": {s: int((table["split"] == s).sum()) for s in ("train", "val")},
                "source": "PTB-XL records rendered upright by DataSynth (synth): mixed layouts, papers, "
                "scan/photo distortions; each page turned by np.rot90 k = 0..3, label (4 - k) % 4",
                "augmentation": "crop ≤ 6 %/side, rotation ±5°, scale 0.92–1.05, gamma, brightness, contrast, "
                "blur, noise, lower resolution",
            },
            "model": f"OrientNet widths {config['widths']} (digitize/train/orient.py), "
            f"{sum(p.numel() for p in model.parameters())} parameters",
            "loss": "cross-entropy (label smoothing 0.02), AdamW, cosine lr",
        },
        metrics=metrics,
        export={
            "opset": 17,
            "weights": "float32",
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "check": {"max_abs_diff": diff},
            "date": time.strftime("%Y-%m-%d"),
        },
    )
    write_entry(models_dir, record)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the page orientation network (quarter turns) on CPU.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="CSV with image, split columns")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="folder for the shrunk grey pages (.npy)")
    parser.add_argument("--images-per-batch", type=int, default=8, help="pages per batch (× 4 turns)")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--time-budget-min", type=float, default=None, help="total training time (min; default 25)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-threshold", type=float, default=None, help="lowest confidence threshold (0.9)")
    parser.add_argument("--init-from", type=Path, default=None, help="start from this checkpoint's weights")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    args = parser.parse_args(argv)
    args.time_budget_min_given = args.time_budget_min is not None
    if args.time_budget_min is None:
        args.time_budget_min = 25.0
    if args.export_only:
        torch.set_num_threads(args.threads)
        command = command_line("digitize.train.orient")
        export(args.run_dir, args.models_dir, min_threshold=args.min_threshold, command=command)
        return 0
    if args.min_threshold is None:
        args.min_threshold = 0.9
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
