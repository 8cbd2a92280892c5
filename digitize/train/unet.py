"""Train the trace segmenter (:mod:`digitize.train.unet_net`) on DataSynth renders, within a time budget, and export it.

Data: ``--n-renders`` DataSynth samples (PTB-XL records, mixed layouts, papers and distortion levels, seeded) are
rendered once into ``RUN_DIR/renders`` at the network's working scale (``WORK_PX_PER_MM`` × a random factor
0.8–1.25, so the model tolerates a calibration error), as ``NNNN.png`` (RGB) + ``NNNN_mask.png`` (trace coverage,
0–255, from DataSynth's exact trace mask resampled with area averaging). The last ``--n-val`` renders are held out.

Training (on the shared harness, :mod:`ecg.train.harness`): random 256 px crops (most holding some trace), BCE +
soft Dice loss on the trace logits (as in the Image2Waveform seed), AdamW with a cosine learning rate over the time
budget, one CPU thread by default. ``RUN_DIR/last.ckpt`` is written every few minutes and at the end; ``--resume``
continues from it with the budget that is left. ``RUN_DIR/train.log`` logs the loss and the validation Dice/F1. At
the end the model is exported to ``models/trace_unet.onnx`` and registered in ``models/manifest.json``.

Usage::

    python -m digitize.train.unet RUN_DIR --records ../shared/data/ptbxl/records500 --time-budget-min 40 --seed 1
    python -m digitize.train.unet RUN_DIR --resume            # continue an interrupted run
    python -m digitize.train.unet RUN_DIR --export-only        # export the last checkpoint again
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from digitize.train.unet_net import STRIDE, WORK_PX_PER_MM, TraceUNet, export_onnx, trace_unet
from ecg.train.harness import (
    RunState,
    TimeBudget,
    command_line,
    load_checkpoint,
    save_checkpoint,
    set_cosine_lr,
    start_run,
)

CROP_PX = 256
MODEL_NAME = "trace_unet"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_RECORDS = REPO / ".." / "shared" / "data" / "ptbxl" / "records500"
LEVEL_MIX = {"none": 0.2, "scan": 0.35, "photo": 0.3, "hard": 0.15}


# --- data ---------------------------------------------------------------------------------------------------------


def render_sample(
    record, seed: int, level: str, scale_jitter: float = 1.0, **spec_choices
) -> tuple[np.ndarray, np.ndarray]:
    """One DataSynth sample at the network's scale: ``(rgb uint8 (H, W, 3), trace coverage uint8 (H, W))``."""
    from synth import synthesize

    rendered = synthesize(record, seed, level, **spec_choices)
    truth = rendered.truth
    px_per_mm = truth.spec.px_per_mm * truth.warp_scale()
    factor = WORK_PX_PER_MM * scale_jitter / px_per_mm
    h, w = rendered.mask.shape
    size = (max(STRIDE, int(round(w * factor))), max(STRIDE, int(round(h * factor))))
    rgb = cv2.cvtColor(rendered.image, cv2.COLOR_BGR2RGB)
    image = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    coverage = cv2.resize((rendered.mask > 0).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return image, np.clip(coverage * 255.0 * 1.5, 0, 255).astype(np.uint8)  # a thin line covers < 1 px


def prepare_renders(out_dir: Path, records_dir: Path, n: int, seed: int, log=print) -> list[Path]:
    """Render ``n`` samples into ``out_dir`` (skipping those already there); returns the image paths."""
    from ecg.io import read_record
    from synth import find_records

    out_dir.mkdir(parents=True, exist_ok=True)
    records = find_records(records_dir, ("*.hea",))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(records))
    paths = []
    levels, weights = list(LEVEL_MIX), np.array(list(LEVEL_MIX.values()))
    for i in range(n):
        path = out_dir / f"{i:04d}.png"
        job_seed = int(rng.integers(2**31))
        level = str(rng.choice(levels, p=weights))
        jitter = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
        dpi = float(rng.choice([100.0, 150.0, 200.0, 200.0, 300.0]))
        paths.append(path)
        if path.exists() and path.with_name(f"{i:04d}_mask.png").exists():
            continue
        record = read_record(records[int(order[i % len(order)])])
        image, mask = render_sample(record, job_seed, level, jitter, dpi=dpi)
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(path.with_name(f"{i:04d}_mask.png")), mask)
        if (i + 1) % 20 == 0:
            log(f"rendered {i + 1}/{n}")
    return paths


def load_pairs(paths: list[Path]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Images (RGB uint8) and masks (uint8) of rendered samples."""
    pairs = []
    for path in paths:
        image = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(str(path.with_name(path.stem + "_mask.png")), cv2.IMREAD_GRAYSCALE)
        pairs.append((image, mask))
    return pairs


def to_input(rgb: np.ndarray) -> np.ndarray:
    """Network input ``(3, H, W)`` float32 from an RGB uint8 image (the runtime uses the same transform)."""
    return (rgb.astype(np.float32) * np.float32(1.0 / 255.0) - np.float32(0.5)).transpose(2, 0, 1)


def sample_batch(
    pairs: list[tuple[np.ndarray, np.ndarray]], batch: int, rng: np.random.Generator, crop: int = CROP_PX
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random crops (80 % of them centred near trace pixels) with mild photometric jitter."""
    xs, ys = [], []
    for _ in range(batch):
        image, mask = pairs[int(rng.integers(len(pairs)))]
        h, w = mask.shape
        if h < crop or w < crop:
            pad_h, pad_w = max(0, crop - h), max(0, crop - w)
            image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
            mask = np.pad(mask, ((0, pad_h), (0, pad_w)))
            h, w = mask.shape
        if rng.random() < 0.8:
            on = np.flatnonzero(mask[::7, ::7].ravel() > 127)
            if on.size:
                k = int(on[rng.integers(on.size)])
                cy, cx = (k // mask[::7, ::7].shape[1]) * 7, (k % mask[::7, ::7].shape[1]) * 7
                y0 = int(np.clip(cy - rng.integers(crop), 0, h - crop))
                x0 = int(np.clip(cx - rng.integers(crop), 0, w - crop))
            else:
                y0, x0 = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
        else:
            y0, x0 = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
        img = image[y0 : y0 + crop, x0 : x0 + crop].astype(np.float32)
        img = img * rng.uniform(0.8, 1.15) + rng.uniform(-20, 20)
        if rng.random() < 0.5:
            img = img[:, ::-1]
            msk = mask[y0 : y0 + crop, x0 : x0 + crop][:, ::-1]
        else:
            msk = mask[y0 : y0 + crop, x0 : x0 + crop]
        xs.append(to_input(np.clip(img, 0, 255)))
        ys.append(msk[None].astype(np.float32) / 255.0)
    return torch.from_numpy(np.ascontiguousarray(np.stack(xs))), torch.from_numpy(np.ascontiguousarray(np.stack(ys)))


# --- loss and metrics ---------------------------------------------------------------------------------------------


def bce_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy plus soft Dice loss (Milletari et al. 2016) for a thin, rare foreground."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2, 3))
    dice = (2 * inter + 1.0) / (prob.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1.0)
    return bce + (1.0 - dice).mean()


def evaluate(model: TraceUNet, pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Dice, precision and recall at p ≥ 0.5 over whole held-out pages (target = coverage ≥ 0.5)."""
    model.eval()
    tp = fp = fn = 0.0
    with torch.no_grad():
        for image, mask in pairs:
            h, w = mask.shape
            ph, pw = (-h) % STRIDE, (-w) % STRIDE
            padded = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="edge")
            logits = model(torch.from_numpy(np.ascontiguousarray(to_input(padded)[None])))[0, 0, :h, :w].numpy()
            pred = logits > 0
            truth = mask > 127
            tp += float((pred & truth).sum())
            fp += float((pred & ~truth).sum())
            fn += float((~pred & truth).sum())
    model.train()
    precision = tp / max(tp + fp, 1.0)
    recall = tp / max(tp + fn, 1.0)
    return {"dice": 2 * tp / max(2 * tp + fp + fn, 1.0), "precision": precision, "recall": recall}


# --- training loop ------------------------------------------------------------------------------------------------


def train(args: argparse.Namespace) -> Path:
    """Run (or resume) training; returns the checkpoint path."""
    run = Path(args.run_dir)
    logger = start_run(run, "digitize.unet", seed=args.seed, threads=args.threads)
    log = logger.info
    rng = np.random.default_rng(args.seed)
    ckpt_path = run / "last.ckpt"
    config_path = run / "config.json"
    if args.resume and ckpt_path.exists():
        config = json.loads(config_path.read_text())
    else:
        config = {
            "seed": args.seed,
            "n_renders": args.n_renders,
            "n_val": args.n_val,
            "records": str(args.records),
            "batch": args.batch,
            "lr": args.lr,
            "time_budget_min": args.time_budget_min,
            "threads": args.threads,
            "widths": [8, 16, 32, 48, 64],
            "command": command_line("digitize.train.unet"),
        }
        config_path.write_text(json.dumps(config, indent=2))
    log(f"config {json.dumps(config)}")
    t_render = time.perf_counter()
    paths = prepare_renders(run / "renders", Path(config["records"]), config["n_renders"], config["seed"], log)
    log(f"renders ready in {time.perf_counter() - t_render:.0f} s")
    pairs = load_pairs(paths)
    train_pairs, val_pairs = pairs[: -config["n_val"]], pairs[-config["n_val"] :]
    model = trace_unet(widths=tuple(config["widths"]))
    optimiser = torch.optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=1e-4)
    modules = {"model": model, "optimiser": optimiser}
    state = RunState()
    if args.resume and ckpt_path.exists():
        state = load_checkpoint(ckpt_path, modules)
        rng = np.random.default_rng([config["seed"], state.step])
        log(f"resumed at step {state.step} after {state.elapsed_s / 60:.1f} min")
    budget = TimeBudget(config["time_budget_min"], state.elapsed_s)
    last_save = time.perf_counter()
    running = None
    model.train()
    while not budget.expired():
        lr = set_cosine_lr(optimiser, config["lr"], budget.fraction, warmup=0.0, floor=0.0)
        x, y = sample_batch(train_pairs, config["batch"], rng)
        loss = bce_dice_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        state.step += 1
        value = loss.item()
        running = value if running is None else 0.95 * running + 0.05 * value
        if state.step % 25 == 0:
            log(f"step {state.step} loss {running:.4f} lr {lr:.2e} elapsed {budget.elapsed_s / 60:.1f} min")
        if time.perf_counter() - last_save > 180:
            state.elapsed_s = budget.elapsed_s
            save_checkpoint(ckpt_path, state, modules)
            last_save = time.perf_counter()
    state.elapsed_s = budget.elapsed_s
    save_checkpoint(ckpt_path, state, modules)
    metrics = evaluate(model, val_pairs)
    metrics.update({"steps": state.step, "train_minutes": round(state.elapsed_s / 60, 1), "final_loss": running})
    (run / "metrics.json").write_text(json.dumps(metrics, indent=2))
    log(f"done: {json.dumps(metrics)}")
    if not args.no_export:
        export(run, Path(args.models_dir))
        log(f"exported to {args.models_dir}/{MODEL_NAME}.onnx")
    return ckpt_path


def export(run: Path, models_dir: Path) -> Path:
    """Export ``run/last.ckpt`` to ``models_dir/trace_unet.onnx`` and record it in the manifest."""
    from ecg.manifest import ModelEntry, sha256_file, write_entry

    config = json.loads((run / "config.json").read_text())
    model = trace_unet(widths=tuple(config["widths"]))
    state = load_checkpoint(run / "last.ckpt", {"model": model}, restore_rng=False)
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{MODEL_NAME}.onnx"
    export_onnx(model, str(path))
    metrics_path = run / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    bench_path = run / "bench.json"
    if bench_path.exists():
        metrics["bench"] = json.loads(bench_path.read_text())
    record = ModelEntry(
        name=MODEL_NAME,
        file=path.name,
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        version="1",
        inputs={"image": "float32 (N, 3, H, W), rgb/255 - 0.5, H and W multiples of 16",
                "px_per_mm": WORK_PX_PER_MM},
        outputs={"logits": "float32 (N, 1, H, W); sigmoid = trace probability"},
        training={
            "command": config["command"],
            "data": f"{config['n_renders']} DataSynth renders of PTB-XL records (levels {LEVEL_MIX}), "
            f"last {config['n_val']} held out",
            "seed": config["seed"],
            "steps": state.step,
            "minutes": round(state.elapsed_s / 60, 1),
            "threads": config["threads"],
            "loss": "BCE + soft Dice",
        },
        metrics=metrics,
        export={"opset": 17, "torch": torch.__version__},
    )
    write_entry(models_dir, record)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the digitizer's trace segmenter on DataSynth renders.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--records", type=Path, default=DEFAULT_RECORDS, help="folder of WFDB records to render")
    parser.add_argument("--n-renders", type=int, default=160)
    parser.add_argument("--n-val", type=int, default=8)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--time-budget-min", type=float, default=40.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    args = parser.parse_args(argv)
    if args.export_only:
        print(export(args.run_dir, args.models_dir))
        return 0
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
