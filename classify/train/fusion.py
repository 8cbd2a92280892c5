"""Train the global/local fusion network (patent CN110731773A): the branches first, then the whole network.

Example::

    python -m classify.train.fusion --manifest data/cls/manifest.csv --out runs/fusion \\
        --time-budget-min 35 --seed 0 [--resume]

Phases (each gets a share of the time budget, ``--phase-shares``):

1. ``local``: ResNet-18 beat classifier on single beat crops (ground-truth boxes, jittered), each crop labelled
   with its record's normal/abnormal label (patent steps 2.1–2.3);
2. ``global``: DenseNet-121 whole-image classifier (steps 3.1–3.3);
3. ``joint``: the fusion network built from both branches without their FC layers (steps 4–5), trained end to end
   with the branches at ``--branch-lr-scale`` × the learning rate.

Every phase keeps its weights with the best validation AUROC (``local.pt``, ``global.pt``, ``best.pt``). The final
decision threshold maximises Youden's J on the validation images.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from classify.fusion_inputs import MAX_BEATS
from classify.train.dataset import BeatCropDataset, FusionDataset
from classify.train.harness import (
    RunState,
    TimeBudget,
    command_line,
    common_arguments,
    init_weights,
    load_checkpoint,
    load_splits,
    save_checkpoint,
    save_final,
    set_cosine_lr,
    setup_run,
    update_best,
)
from classify.train.metrics import auroc, binary_report, bootstrap_ci, youden_threshold
from classify.train.nets import FusionNet, fusion_net

MODULE = "classify.train.fusion"
PHASES = ("local", "global", "joint")


def _batches(dataset: Dataset, batch_size: int, *, shuffle: bool, seed: int, workers: int = 0) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        num_workers=workers,
        drop_last=shuffle and len(dataset) > batch_size,
    )


def _forward(phase: str, model: FusionNet, batch: tuple) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and labels of one batch in a phase."""
    if phase == "local":
        crops, labels = batch
        return model.local.classify(crops), labels
    image, crops, mask, labels = batch
    if phase == "global":
        return model.global_.classify(image), labels
    return model(image, crops, mask), labels


def predict(phase: str, model: FusionNet, dataset: Dataset, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Abnormal probabilities and labels over a dataset for the network of ``phase``."""
    model.eval()
    probs, labels = [], []
    with torch.no_grad():
        for batch in _batches(dataset, batch_size, shuffle=False, seed=0):
            logits, y = _forward(phase, model, batch)
            probs.append(torch.sigmoid(logits).numpy())
            labels.append(y.numpy())
    if not probs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(probs), np.concatenate(labels)


def _optimizer(phase: str, model: FusionNet, lr: float, branch_scale: float) -> torch.optim.Optimizer:
    if phase == "local":
        groups = [{"params": model.local.parameters(), "lr_scale": 1.0}]
    elif phase == "global":
        groups = [{"params": model.global_.parameters(), "lr_scale": 1.0}]
    else:
        branches = [p for name, p in model.named_parameters() if not name.startswith("head.")]
        groups = [
            {"params": branches, "lr_scale": branch_scale},
            {"params": model.head.parameters(), "lr_scale": 1.0},
        ]
    return torch.optim.AdamW(groups, lr=lr, weight_decay=1e-4)


def _phase_data(phase: str, splits: dict, cache_dir: Path, args: argparse.Namespace) -> tuple[Dataset, Dataset, int]:
    if phase == "local":
        return (
            BeatCropDataset(splits["train"], cache_dir, augment=True, seed=args.seed),
            BeatCropDataset(splits["val"], cache_dir),
            args.crop_batch_size,
        )
    return (
        FusionDataset(splits["train"], cache_dir, max_beats=MAX_BEATS, augment=True, seed=args.seed),
        FusionDataset(splits["val"], cache_dir, max_beats=MAX_BEATS),
        args.batch_size,
    )


def run_phase(
    phase: str, model: FusionNet, splits: dict, cache_dir: Path, args: argparse.Namespace, log, *, resume: bool
) -> None:
    """Train one phase within its share of the budget, keeping the best weights in ``<out>/<phase>.pt``.

    With ``resume`` the phase continues from ``<out>/checkpoint.pt`` (which must belong to this phase).
    """
    train_set, val_set, batch_size = _phase_data(phase, splits, cache_dir, args)
    optimizer = _optimizer(phase, model, args.lr, args.branch_lr_scale)
    checkpoint = args.out / "checkpoint.pt"
    modules = {"model": model, "optimizer": optimizer}
    state = RunState(phase=phase)
    if resume:
        state = load_checkpoint(checkpoint, modules)
        log.info("resumed phase %s at epoch %d step %d", phase, state.epoch, state.step)
    share = dict(zip(PHASES, args.phase_shares, strict=True))[phase]
    budget = TimeBudget(args.time_budget_min * share, state.elapsed_s)
    log.info("phase %s: %d train / %d val items, %.1f min", phase, len(train_set), len(val_set), budget.limit_s / 60)
    best_path = args.out / f"{phase}.pt"
    while state.epoch < args.epochs and not budget.expired():
        train_set.epoch = state.epoch
        model.train()
        losses = []
        for batch in _batches(train_set, batch_size, shuffle=True, seed=args.seed + state.epoch, workers=args.workers):
            lr = set_cosine_lr(optimizer, args.lr, budget.fraction)
            logits, labels = _forward(phase, model, batch)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            state.step += 1
            if state.step % 20 == 0:
                log.info(
                    "%s epoch %d step %d loss %.4f lr %.2e", phase, state.epoch, state.step, np.mean(losses[-20:]), lr
                )
            if state.step % args.checkpoint_every == 0:
                state.elapsed_s = budget.elapsed_s
                save_checkpoint(checkpoint, state, modules)
            if budget.expired():
                break
        probs, labels = predict(phase, model, val_set, batch_size)
        score = auroc(labels, probs)
        state.history.append(
            {
                "phase": phase,
                "epoch": state.epoch,
                "step": state.step,
                "train_loss": float(np.mean(losses or [np.nan])),
                "val_auroc": score,
                "elapsed_s": budget.elapsed_s,
            }
        )
        log.info(
            "%s epoch %d done: train loss %.4f, val AUROC %.4f",
            phase,
            state.epoch,
            np.mean(losses or [np.nan]),
            score,
        )
        if update_best(state, score):
            torch.save(model.state_dict(), best_path)
        state.epoch += 1
        state.elapsed_s = budget.elapsed_s
        save_checkpoint(checkpoint, state, modules)
    if best_path.exists():
        model.load_state_dict(torch.load(best_path, map_location="cpu"))
    (args.out / f"{phase}.done").write_text(f"{state.best_score}\n")


def main(argv: list[str] | None = None) -> dict:
    parser = common_arguments("Train the global/local fusion network (normal vs abnormal).")
    parser.add_argument(
        "--phase-shares",
        type=float,
        nargs=3,
        default=(0.2, 0.35, 0.45),
        metavar=("LOCAL", "GLOBAL", "JOINT"),
        help="shares of the time budget per phase",
    )
    parser.add_argument("--crop-batch-size", type=int, default=64)
    parser.add_argument("--branch-lr-scale", type=float, default=0.1)
    parser.set_defaults(batch_size=8, lr=5e-4)
    args = parser.parse_args(argv)
    log = setup_run(args, "fusion")
    splits, cache_dir = load_splits(args)
    model = fusion_net()
    init_weights(model, args.init_from, log)
    checkpoint = args.out / "checkpoint.pt"
    saved_phase = None
    if args.resume and checkpoint.exists():
        saved_phase = torch.load(checkpoint, map_location="cpu", weights_only=False)["state"]["phase"]
    for phase in PHASES:
        done = args.out / f"{phase}.done"
        if args.resume and done.exists():
            model.load_state_dict(torch.load(args.out / f"{phase}.pt", map_location="cpu"))
            log.info("phase %s already done", phase)
            continue
        run_phase(phase, model, splits, cache_dir, args, log, resume=saved_phase == phase)
    history = [phase for phase in PHASES if (args.out / f"{phase}.pt").exists()]
    model.load_state_dict(torch.load(args.out / "joint.pt", map_location="cpu"))
    torch.save(model.state_dict(), args.out / "best.pt")

    val_set = FusionDataset(splits["val"], cache_dir, max_beats=MAX_BEATS)
    probs, labels = predict("joint", model, val_set, args.batch_size)
    threshold = youden_threshold(labels, probs)
    low, high = bootstrap_ci(labels, probs, seed=args.seed) if len(labels) else (float("nan"),) * 2
    branch = {}
    for phase in ("local", "global"):
        p, y = predict(phase, model, _phase_data(phase, splits, cache_dir, args)[1], args.batch_size)
        branch[f"{phase}_branch_val_auroc"] = auroc(y, p)
    metrics = {
        "split": "val",
        "images": len(val_set),
        "auroc": auroc(labels, probs),
        "auroc_ci95": [low, high],
        "threshold": threshold,
        **binary_report(labels, probs >= threshold).as_dict(),
        **branch,
        "phases_trained": history,
    }
    config = {
        "threshold": threshold,
        "max_beats": MAX_BEATS,
        "seed": args.seed,
        "command": command_line(MODULE),
        "preprocess": args.preprocess,
        "manifest": str(args.manifest),
    }
    save_final(args.out, model=model, config=config, metrics=metrics)
    log.info("finished: val AUROC %.4f (95%% CI %.3f–%.3f), threshold %.3f", metrics["auroc"], low, high, threshold)
    return metrics


if __name__ == "__main__":
    main()
