"""The one training harness every training script shares: seeding, a logged run folder, a time budget, a cosine
learning rate over that budget, atomic resumable checkpoints, and ONNX export checked against torch.

A run folder holds ``train.log`` (every line also on stderr) and the script's checkpoints, written atomically by
:func:`save_checkpoint` as ``{"state": RunState, "torch_rng": ..., <module name>: state_dict, ...}``. The time
budget counts training time across resumes (:attr:`RunState.elapsed_s` is saved in the checkpoint).

Used by :mod:`classify.train.harness` (classifier arguments and data on top of this), :mod:`digitize.train.unet` and
:mod:`digitize.train.orient`. The model manifest entry is written with :func:`ecg.manifest.write_entry`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shlex
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ecg.manifest import json_safe

OPSET = 17


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU) and ask torch for deterministic algorithms where it can."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def run_logger(out: Path, name: str = "train") -> logging.Logger:
    """A logger writing time-stamped lines to ``<out>/train.log`` (appended; folder created) and to stderr."""
    out.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"ecgscreen.train.{name}.{out.resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
        for handler in (logging.FileHandler(out / "train.log", encoding="utf-8"), logging.StreamHandler(sys.stderr)):
            handler.setFormatter(formatter)
            logger.addHandler(handler)
    return logger


def start_run(out: Path, name: str, *, seed: int, threads: int) -> logging.Logger:
    """Create the run folder, set torch's CPU threads (OpenCV's to 1), seed everything; the run's logger."""
    torch.set_num_threads(max(1, threads))
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - OpenCV is a serving dependency
        pass
    seed_everything(seed)
    logger = run_logger(out, name)
    logger.info("start %s: %s", name, " ".join(sys.argv))
    return logger


def command_line(module: str, argv: list[str] | None = None) -> str:
    """The command that started training module ``module`` (recorded in the model manifest)."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join([f"python -m {module}", *(shlex.quote(a) for a in args)])


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


def set_cosine_lr(
    optimizer: torch.optim.Optimizer, base_lr: float, fraction: float, warmup: float = 0.03, floor: float = 0.01
) -> float:
    """Set every group's learning rate on a linear warm-up (``warmup`` of the budget) + cosine schedule over the
    *time* budget, never below ``floor`` × ``base_lr``; returns it. A group's ``lr_scale`` multiplies its rate."""
    if fraction < warmup:
        lr = base_lr * max(fraction / warmup, 0.05)
    else:
        lr = base_lr * 0.5 * (1.0 + np.cos(np.pi * (fraction - warmup) / (1.0 - warmup)))
    lr = max(float(lr), base_lr * floor)
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    return lr


@dataclass
class RunState:
    """Progress saved with every checkpoint (``extra``: what a script needs besides, e.g. its best metrics)."""

    phase: str = "main"
    epoch: int = 0
    step: int = 0
    elapsed_s: float = 0.0
    best_score: float = float("-inf")
    best_epoch: int = -1
    history: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


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


def load_checkpoint(path: Path, modules: dict[str, Any], *, restore_rng: bool = True) -> RunState:
    """Restore modules/optimisers from ``path`` (and torch's random state) and return the saved :class:`RunState`."""
    payload = torch.load(path, map_location="cpu", weights_only=False)
    for name, module in modules.items():
        if name in payload:
            module.load_state_dict(payload[name])
    if restore_rng and "torch_rng" in payload:
        torch.set_rng_state(payload["torch_rng"])
    return _state_of(payload)


def read_state(path: Path) -> RunState:
    """The :class:`RunState` of a checkpoint without loading any weights into a module."""
    return _state_of(torch.load(path, map_location="cpu", weights_only=False))


def _state_of(payload: dict) -> RunState:
    if "state" in payload:
        return RunState(**payload["state"])
    # checkpoints of the digitizer's scripts before the shared harness: {"step", "spent_s", "best"?, ...}
    extra = {"best": payload["best"]} if "best" in payload else {}
    return RunState(step=int(payload.get("step", 0)), elapsed_s=float(payload.get("spent_s", 0.0)), extra=extra)


def save_final(out: Path, *, model: torch.nn.Module, config: dict, metrics: dict) -> None:
    """Write ``model.pt`` (weights + config) and ``metrics.json`` for the exporter."""
    torch.save({"state_dict": model.state_dict(), "config": config}, out / "model.pt")
    (out / "metrics.json").write_text(json.dumps(json_safe(metrics), indent=2, allow_nan=False) + "\n")


# --- ONNX export --------------------------------------------------------------------------------------------------


def export_onnx(
    module: torch.nn.Module,
    args: tuple,
    path: Path,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
    opset: int = OPSET,
) -> None:
    """Write ``module`` (eval mode) to ONNX with the TorchScript exporter (constant folding on)."""
    module.eval()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-level shape arithmetic in torchvision
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            do_constant_folding=True,
        )


def check_session(path: Path) -> Any:
    """A one-thread CPU onnxruntime session of an exported file (for the export checks, not for serving)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def max_abs_diff(a: Any, b: Any) -> float:
    """Largest |a − b| (inf when the shapes differ, 0 for empty arrays)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def onnx_agrees(module: torch.nn.Module, path: Path, feeds: dict[str, np.ndarray], tolerance: float = 1e-4) -> float:
    """Largest |onnxruntime − torch| difference of the first output on ``feeds``; raises when above ``tolerance``."""
    module.eval()
    with torch.no_grad():
        expected = module(*(torch.from_numpy(v) for v in feeds.values()))
    expected = expected[0] if isinstance(expected, (tuple, list)) else expected
    got = check_session(path).run(None, feeds)[0]
    diff = max_abs_diff(got, expected.numpy())
    if diff > tolerance:
        raise RuntimeError(f"{path}: onnxruntime and torch disagree by {diff:.2e} (> {tolerance:g})")
    return diff
