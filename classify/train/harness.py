"""What the three classifier training scripts share on top of the one harness (:mod:`ecg.train.harness`: seeding,
logging, time budget, checkpoints, export): their arguments, the rendered data set's splits and weight initialisation.

A run folder holds ``train.log``, ``checkpoint.pt`` (latest state, written every ``--checkpoint-every`` steps and at
the end of each epoch, atomically), ``best.pt`` (weights with the best validation figure), ``model.pt`` (the final
weights + config + thresholds, what :mod:`classify.train.export` reads) and ``metrics.json``.

The time budget counts training time across resumes (the elapsed seconds are stored in the checkpoint). A resumed
run restarts the interrupted epoch with the weights of the last checkpoint.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import torch

from classify.train.cache import cache_preprocess
from classify.train.data import read_manifest
from ecg.train.harness import (
    RunState,
    TimeBudget,
    load_checkpoint,
    save_checkpoint,
    save_final,
    set_cosine_lr,
    start_run,
    update_best,
)
from ecg.train.harness import command_line as _command_line

__all__ = [
    "RunState",
    "TimeBudget",
    "command_line",
    "common_arguments",
    "init_weights",
    "load_checkpoint",
    "load_splits",
    "save_checkpoint",
    "save_final",
    "set_cosine_lr",
    "setup_run",
    "transferable",
    "update_best",
]


def common_arguments(description: str) -> argparse.ArgumentParser:
    """The arguments every training script takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--manifest", required=True, type=Path, help="manifest.csv of a rendered data set")
    parser.add_argument("--cache-dir", type=Path, default=None, help="cached inputs (default: <manifest dir>/cache)")
    parser.add_argument("--out", required=True, type=Path, help="run folder (logs, checkpoints, metrics)")
    parser.add_argument("--time-budget-min", type=float, default=30.0, help="stop training after this many minutes")
    parser.add_argument("--epochs", type=int, default=100, help="upper bound on epochs (the budget usually ends first)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--checkpoint-every", type=int, default=200, help="steps between checkpoints")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images per split (smoke tests)")
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start from the weights of an earlier run (its model.pt or best.pt) or of a shipped ONNX model's "
        "ResNet-18 (models/fusion.onnx: the beat encoder) instead of random ones",
    )
    return parser


def init_weights(model: torch.nn.Module, path: Path | None, log: logging.Logger) -> None:
    """Load the weights of an earlier run (``model.pt`` with a ``state_dict`` entry, or a bare state dict), or the
    ResNet-18 of a shipped ONNX model (e.g. ``models/fusion.onnx``'s beat encoder; :mod:`classify.train.onnx_weights`).

    When the saved network is a different one, the tensors whose names end alike and whose shapes agree are
    transferred (:func:`transferable`): e.g. the fusion net's beat encoder ``local.body.layer1…`` into the tiled
    ResNet's ``backbone.layer1…``; the rest keep their random initialisation.
    """
    if path is None:
        return
    if Path(path).suffix == ".onnx":
        from torchvision.models import resnet18

        from classify.train.onnx_weights import resnet_state_from_onnx

        state = resnet_state_from_onnx(path, resnet18(weights=None), prefix="onnx.")
    else:
        payload = torch.load(path, map_location="cpu", weights_only=False)
        state = payload.get("state_dict", payload) if isinstance(payload, dict) else payload
    try:
        model.load_state_dict(state)
        log.info("initialised from %s", path)
        return
    except RuntimeError:
        pass
    matched = transferable(model.state_dict(), state)
    if not matched:
        raise ValueError(f"{path}: no tensor of the saved network fits this one")
    model.load_state_dict(matched, strict=False)
    log.info("initialised %d of %d tensors from %s (partial transfer)", len(matched), len(model.state_dict()), path)


def transferable(own: dict[str, torch.Tensor], saved: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Saved tensors for ``own``'s names: same name after dropping each side's leading dotted part(s), same shape;
    among several candidates the one with the shortest name, if only one is shortest."""
    matched = {}
    for name, tensor in own.items():
        parts = name.split(".")
        for cut in range(1, len(parts)):
            suffix = "." + ".".join(parts[cut:])
            candidates = [k for k in saved if k.endswith(suffix) and saved[k].shape == tensor.shape]
            if candidates:
                depth = [k.count(".") for k in candidates]
                if depth.count(min(depth)) == 1:
                    matched[name] = saved[candidates[depth.index(min(depth))]]
                break
    return matched


def load_splits(args: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    """Manifest rows per split (``train``, ``val``, ``test``) and the cache folder; sets ``args.preprocess`` to the
    preprocessing the cache was built with."""
    manifest = read_manifest(args.manifest)
    cache_dir = args.cache_dir or args.manifest.parent / "cache"
    args.preprocess = cache_preprocess(cache_dir)
    splits = {}
    for split in ("train", "val", "test"):
        rows = manifest[manifest["split"] == split]
        splits[split] = rows.head(args.limit) if args.limit else rows
    return splits, cache_dir


def setup_run(args: argparse.Namespace, name: str) -> logging.Logger:
    """Create the run folder, seed, set threads, and return a logger writing to ``train.log`` and stderr."""
    return start_run(args.out, f"classify.{name}", seed=args.seed, threads=args.threads)


def command_line(module: str) -> str:
    """The command that started this training module (recorded in the model manifest)."""
    return _command_line(module)
