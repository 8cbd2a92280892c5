"""Train the RGB-tiled ResNet (patent CN110507311A) on a rendered data set.

Example (see the README for the budgets used for the shipped model)::

    python -m classify.train.tiled --manifest data/cls/manifest.csv --out runs/tiled \\
        --time-budget-min 25 --seed 0 [--resume]

Ten independent sigmoid outputs, binary cross-entropy, images drawn with a class-balancing sampler
(:meth:`classify.train.dataset.TiledDataset.balanced_sampler`). After training, the weights with the best validation
macro-AUROC are kept and per-class thresholds maximising F1 on the validation images are saved with them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from classify.labels import TILED_CLASSES, UNTRAINED_CLASSES
from classify.train.dataset import TiledDataset, class_counts
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
from classify.train.metrics import auroc, choose_thresholds, multilabel_report
from classify.train.nets import tiled_resnet

MODULE = "classify.train.tiled"


def predict(model: torch.nn.Module, dataset: TiledDataset, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sigmoid probabilities ``(N, 10)`` and targets of a dataset."""
    model.eval()
    probs, targets = [], []
    with torch.no_grad():
        for images, target in DataLoader(dataset, batch_size=batch_size):
            probs.append(torch.sigmoid(model(images)).numpy())
            targets.append(target.numpy())
    if not probs:
        return np.zeros((0, len(TILED_CLASSES))), np.zeros((0, len(TILED_CLASSES)))
    return np.concatenate(probs), np.concatenate(targets)


def mean_auroc(targets: np.ndarray, probs: np.ndarray) -> float:
    """Mean AUROC over the classes that have both positives and negatives (NaN when none)."""
    values = [auroc(targets[:, k], probs[:, k]) for k in range(targets.shape[1])]
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def main(argv: list[str] | None = None) -> dict:
    parser = common_arguments("Train the RGB-tiled ResNet classifier (10 classes).")
    parser.add_argument("--depth", type=int, default=18, choices=(18, 34))
    args = parser.parse_args(argv)
    log = setup_run(args, "tiled")
    splits, cache_dir = load_splits(args)
    train_set = TiledDataset(splits["train"], cache_dir, augment=True, seed=args.seed)
    val_set = TiledDataset(splits["val"], cache_dir)
    log.info(
        "train %d images %s; val %d images %s",
        len(train_set),
        class_counts(splits["train"]),
        len(val_set),
        class_counts(splits["val"]),
    )

    model = tiled_resnet(depth=args.depth)
    init_weights(model, args.init_from, log)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    checkpoint = args.out / "checkpoint.pt"
    modules = {"model": model, "optimizer": optimizer}
    state = load_checkpoint(checkpoint, modules) if args.resume and checkpoint.exists() else RunState()
    if args.resume:
        log.info("resumed at epoch %d step %d (%.0f s used)", state.epoch, state.step, state.elapsed_s)
    budget = TimeBudget(args.time_budget_min, state.elapsed_s)

    while state.epoch < args.epochs and not budget.expired():
        train_set.epoch = state.epoch
        loader = DataLoader(
            train_set,
            batch_size=args.batch_size,
            num_workers=args.workers,
            sampler=train_set.balanced_sampler(args.seed + state.epoch),
            drop_last=len(train_set) > args.batch_size,
        )
        model.train()
        losses = []
        for images, targets in loader:
            lr = set_cosine_lr(optimizer, args.lr, budget.fraction)
            loss = loss_fn(model(images), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            state.step += 1
            if state.step % 20 == 0:
                log.info("epoch %d step %d loss %.4f lr %.2e", state.epoch, state.step, np.mean(losses[-20:]), lr)
            if state.step % args.checkpoint_every == 0:
                state.elapsed_s = budget.elapsed_s
                save_checkpoint(checkpoint, state, modules)
            if budget.expired():
                break
        probs, targets = predict(model, val_set, args.batch_size)
        score = mean_auroc(targets, probs)
        state.history.append(
            {
                "epoch": state.epoch,
                "step": state.step,
                "train_loss": float(np.mean(losses or [np.nan])),
                "val_mean_auroc": score,
                "elapsed_s": budget.elapsed_s,
            }
        )
        log.info("epoch %d done: train loss %.4f, val mean AUROC %.4f", state.epoch, np.mean(losses or [np.nan]), score)
        if update_best(state, score):
            torch.save(model.state_dict(), args.out / "best.pt")
        state.epoch += 1
        state.elapsed_s = budget.elapsed_s
        save_checkpoint(checkpoint, state, modules)

    if (args.out / "best.pt").exists():
        model.load_state_dict(torch.load(args.out / "best.pt", map_location="cpu"))
    probs, targets = predict(model, val_set, args.batch_size)
    # AESC has no real example: fixed at 1.0 (never fired) unless synthetic examples were trained on, then 0.5
    seen = class_counts(splits["train"])
    untrained = frozenset(c for c in UNTRAINED_CLASSES if seen[c] == 0)
    thresholds = choose_thresholds(targets, probs, TILED_CLASSES, untrained=untrained)
    metrics = {
        "split": "val",
        "images": len(val_set),
        "mean_auroc": mean_auroc(targets, probs),
        **multilabel_report(targets, probs, TILED_CLASSES, thresholds),
        "best_epoch": state.best_epoch,
        "epochs": state.epoch,
        "steps": state.step,
        "train_seconds": round(state.elapsed_s, 1),
        "train_images": len(train_set),
        "history": state.history,
    }
    config = {
        "depth": args.depth,
        "classes": list(TILED_CLASSES),
        "thresholds": thresholds,
        "seed": args.seed,
        "command": command_line(MODULE),
        "preprocess": args.preprocess,
        "manifest": str(args.manifest),
    }
    save_final(args.out, model=model, config=config, metrics=metrics)
    log.info(
        "finished: val mean AUROC %.4f, macro-F1 %.4f; thresholds %s",
        metrics["mean_auroc"],
        metrics["macro_f1"],
        thresholds,
    )
    return metrics


if __name__ == "__main__":
    main()
