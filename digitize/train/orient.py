"""Train the 4-way page orientation network (quarter turns 0/1/2/3 that make a page upright) on CPU; export to ONNX.

Data (:mod:`digitize.train.orient_data`): the DataSynth renders of ``--manifest`` (PTB-XL records drawn with mixed
layouts, papers, scan and photo distortions; all upright), shrunk to grey and cached in ``--cache``; every page turned
by all four quarters, each copy lightly augmented (crop up to 6 % per side, rotation ±5°, scale, brightness,
contrast, gamma, blur, noise, lower resolution). Trains on ``split == "train"``, validates on ``split == "val"``.

Model (:mod:`digitize.train.orient_net`): six strided conv blocks and a 4×4 spatial map into one linear layer.
This module is the training loop and the export: cross-entropy, AdamW, cosine learning rate over the time budget
(the shared harness :mod:`ecg.train.harness`). ``RUN_DIR/last.ckpt`` every few minutes (``--resume`` continues with
the budget left; a new ``--time-budget-min`` replaces the total), ``RUN_DIR/best.ckpt`` at the best validation
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

import numpy as np
import pandas as pd
import torch

from digitize.orient import INPUT_SIDE, MODEL_NAME
from digitize.train.orient_data import build_cache, make_batch
from digitize.train.orient_net import (
    WIDTHS,
    OrientNet,
    choose_threshold,
    export_onnx,
    metrics_of,
    predict,
    train_step,
)
from ecg.train.harness import (
    RunState,
    TimeBudget,
    command_line,
    load_checkpoint,
    read_state,
    save_checkpoint,
    set_cosine_lr,
    start_run,
)

__all__ = ["OrientNet", "build_cache", "export", "export_onnx", "main", "make_batch", "train", "train_step"]

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = Path("/work/cache/cls/manifest.csv")
DEFAULT_CACHE = Path("/work/cache/orient")
EVAL_EVERY_S = 240.0
SAVE_EVERY_S = 120.0


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
            "model": f"OrientNet widths {config['widths']} (digitize/train/orient_net.py), "
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
