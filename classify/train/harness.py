"""What the three training scripts share: arguments, seeding, logging, the time budget and resumable checkpoints.

A run folder holds ``train.log``, ``checkpoint.pt`` (latest state, written every ``--checkpoint-every`` steps and at
the end of each epoch, atomically), ``best.pt`` (weights with the best validation figure), ``model.pt`` (the final
weights + config + thresholds, what :mod:`classify.train.export` reads) and ``metrics.json``.

The time budget counts training time across resumes (the elapsed seconds are stored in the checkpoint). A resumed
run restarts the interrupted epoch with the weights of the last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from classify.manifest import json_safe
from classify.train.cache import cache_preprocess
from classify.train.data import read_manifest


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


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU) and ask torch for deterministic algorithms where it can."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def setup_run(args: argparse.Namespace, name: str) -> logging.Logger:
    """Create the run folder, seed, set threads, and return a logger writing to ``train.log`` and stderr."""
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, args.threads))
    seed_everything(args.seed)
    logger = logging.getLogger(f"classify.{name}.{args.out}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
        for handler in (logging.FileHandler(args.out / "train.log"), logging.StreamHandler(sys.stderr)):
            handler.setFormatter(formatter)
            logger.addHandler(handler)
    logger.info("start %s: %s", name, " ".join(sys.argv))
    return logger


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


class TimeBudget:
    """Wall-clock training budget in minutes, continuing from ``already_s`` seconds."""

    def __init__(self, minutes: float, already_s: float = 0.0) -> None:
        self.limit_s = minutes * 60.0
        self.already_s = already_s
        self.started = time.monotonic()

    @property
    def elapsed_s(self) -> float:
        return self.already_s + time.monotonic() - self.started

    @property
    def fraction(self) -> float:
        """Share of the budget used, 0–1."""
        return min(1.0, self.elapsed_s / self.limit_s) if self.limit_s > 0 else 1.0

    def expired(self) -> bool:
        return self.elapsed_s >= self.limit_s


def set_cosine_lr(optimizer: torch.optim.Optimizer, base_lr: float, fraction: float, warmup: float = 0.03) -> float:
    """Set every group's learning rate on a linear-warm-up + cosine schedule over the *time* budget; returns it."""
    if fraction < warmup:
        lr = base_lr * max(fraction / warmup, 0.05)
    else:
        lr = base_lr * 0.5 * (1.0 + np.cos(np.pi * (fraction - warmup) / (1.0 - warmup)))
    lr = max(lr, base_lr * 0.01)
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    return lr


@dataclass
class RunState:
    """Progress saved with every checkpoint."""

    phase: str = "main"
    epoch: int = 0
    step: int = 0
    elapsed_s: float = 0.0
    best_score: float = float("-inf")
    best_epoch: int = -1
    history: list = field(default_factory=list)


def update_best(state: RunState, score: float) -> bool:
    """Record ``score`` of the epoch just finished; True when its weights should become ``best.pt``.

    While no finite validation score has been seen (tiny validation sets), the latest weights count as best.
    """
    if np.isfinite(score) and score > state.best_score:
        state.best_score, state.best_epoch = float(score), state.epoch
        return True
    if not np.isfinite(state.best_score):
        state.best_epoch = state.epoch
        return True
    return False


def save_checkpoint(path: Path, state: RunState, modules: dict[str, Any]) -> None:
    """Atomically write ``state`` and the ``state_dict`` of every module/optimiser in ``modules``."""
    payload = {"state": asdict(state), "torch_rng": torch.get_rng_state()}
    payload.update({name: module.state_dict() for name, module in modules.items()})
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, modules: dict[str, Any]) -> RunState:
    """Restore modules/optimisers from ``path`` and return the saved :class:`RunState`."""
    payload = torch.load(path, map_location="cpu", weights_only=False)
    for name, module in modules.items():
        if name in payload:
            module.load_state_dict(payload[name])
    torch.set_rng_state(payload["torch_rng"])
    return RunState(**payload["state"])


def save_final(out: Path, *, model: torch.nn.Module, config: dict, metrics: dict) -> None:
    """Write ``model.pt`` (weights + config) and ``metrics.json`` for the exporter."""
    torch.save({"state_dict": model.state_dict(), "config": config}, out / "model.pt")
    (out / "metrics.json").write_text(json.dumps(json_safe(metrics), indent=2, allow_nan=False) + "\n")


def command_line(module: str) -> str:
    """The command that started this training module (recorded in the model manifest)."""
    return " ".join([f"python -m {module}", *sys.argv[1:]])
