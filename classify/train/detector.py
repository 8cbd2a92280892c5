"""Train the Faster R-CNN heartbeat detector (patent CN110731773A step 1) on DataSynth's heartbeat boxes.

Example::

    python -m classify.train.detector --manifest data/cls/manifest.csv --out runs/detector \\
        --time-budget-min 15 --batch-size 4 --lr 1e-3 --seed 0 [--resume]

torchvision's Faster R-CNN losses (RPN objectness + box regression, RoI classification + box regression), AdamW,
gradient clipping. Validation figure: F1 of beat recall and precision at IoU 0.5 at the best score threshold,
which is saved as the detector's operating threshold.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from classify.train.dataset import DetectorDataset, detection_collate
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
from classify.train.metrics import detection_report
from classify.train.nets import BEAT_DETECTOR_BACKBONES, beat_detector

MODULE = "classify.train.detector"
SCORE_THRESHOLDS = tuple(np.round(np.arange(0.1, 0.95, 0.05), 2))


def predict_boxes(
    model: torch.nn.Module, dataset: DetectorDataset, batch_size: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(boxes, scores, truth_boxes)`` per image, in canvas px."""
    model.eval()
    out = []
    with torch.no_grad():
        for images, targets in DataLoader(dataset, batch_size=batch_size, collate_fn=detection_collate):
            for prediction, target in zip(model(images), targets, strict=True):
                out.append((prediction["boxes"].numpy(), prediction["scores"].numpy(), target["boxes"].numpy()))
    return out


def best_operating_point(predictions: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[float, dict]:
    """Score threshold maximising the F1 of recall and precision at IoU 0.5, with its report."""
    best_threshold, best_report, best_f1 = 0.5, detection_report([]), -1.0
    for threshold in SCORE_THRESHOLDS:
        report = detection_report([(boxes[scores >= threshold], truth) for boxes, scores, truth in predictions])
        recall, precision = report["recall"], report["precision"]
        f1 = 2 * recall * precision / (recall + precision) if recall + precision > 0 else 0.0
        f1 = f1 if np.isfinite(f1) else 0.0
        if f1 > best_f1:
            best_threshold, best_report, best_f1 = float(threshold), {**report, "f1": f1}, f1
    return best_threshold, best_report


def main(argv: list[str] | None = None) -> dict:
    parser = common_arguments("Train the Faster R-CNN heartbeat detector.")
    parser.add_argument("--backbone", choices=BEAT_DETECTOR_BACKBONES, default="vgg-slim")
    parser.set_defaults(batch_size=4)
    args = parser.parse_args(argv)
    log = setup_run(args, "detector")
    splits, cache_dir = load_splits(args)
    train_set = DetectorDataset(splits["train"], cache_dir, augment=True, seed=args.seed)
    val_set = DetectorDataset(splits["val"], cache_dir)
    log.info("train %d images, val %d images", len(train_set), len(val_set))

    model = beat_detector(backbone=args.backbone)
    init_weights(model, args.init_from, log)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=1e-4)
    checkpoint = args.out / "checkpoint.pt"
    modules = {"model": model, "optimizer": optimizer}
    state = load_checkpoint(checkpoint, modules) if args.resume and checkpoint.exists() else RunState()
    budget = TimeBudget(args.time_budget_min, state.elapsed_s)
    generator = torch.Generator()

    while state.epoch < args.epochs and not budget.expired():
        train_set.epoch = state.epoch
        generator.manual_seed(args.seed + state.epoch)
        loader = DataLoader(
            train_set,
            batch_size=args.batch_size,
            shuffle=True,
            generator=generator,
            num_workers=args.workers,
            collate_fn=detection_collate,
        )
        model.train()
        losses = []
        for images, targets in loader:
            lr = set_cosine_lr(optimizer, args.lr, budget.fraction)
            loss_parts = model(images, targets)
            loss = sum(loss_parts.values())
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
            losses.append(loss.item())
            state.step += 1
            if state.step % 20 == 0:
                parts = " ".join(f"{k}={v.item():.3f}" for k, v in loss_parts.items())
                log.info(
                    "epoch %d step %d loss %.4f (%s) lr %.2e",
                    state.epoch,
                    state.step,
                    np.mean(losses[-20:]),
                    parts,
                    lr,
                )
            if state.step % args.checkpoint_every == 0:
                state.elapsed_s = budget.elapsed_s
                save_checkpoint(checkpoint, state, modules)
            if budget.expired():
                break
        threshold, report = best_operating_point(predict_boxes(model, val_set, args.batch_size))
        score = report.get("f1", float("nan"))
        state.history.append(
            {
                "epoch": state.epoch,
                "step": state.step,
                "train_loss": float(np.mean(losses or [np.nan])),
                "val_f1": score,
                "val_threshold": threshold,
                "elapsed_s": budget.elapsed_s,
            }
        )
        log.info(
            "epoch %d done: train loss %.4f, val recall %.3f precision %.3f at score ≥ %.2f",
            state.epoch,
            np.mean(losses or [np.nan]),
            report.get("recall", np.nan),
            report.get("precision", np.nan),
            threshold,
        )
        if update_best(state, score):
            torch.save(model.state_dict(), args.out / "best.pt")
        state.epoch += 1
        state.elapsed_s = budget.elapsed_s
        save_checkpoint(checkpoint, state, modules)

    if (args.out / "best.pt").exists():
        model.load_state_dict(torch.load(args.out / "best.pt", map_location="cpu"))
    threshold, report = best_operating_point(predict_boxes(model, val_set, args.batch_size))
    metrics = {
        "split": "val",
        **report,
        "score_threshold": threshold,
        "best_epoch": state.best_epoch,
        "epochs": state.epoch,
        "steps": state.step,
        "train_seconds": round(state.elapsed_s, 1),
        "train_images": len(train_set),
        "history": state.history,
    }
    config = {
        "backbone": args.backbone,
        "score_threshold": threshold,
        "seed": args.seed,
        "command": command_line(MODULE),
        "preprocess": args.preprocess,
        "manifest": str(args.manifest),
    }
    save_final(args.out, model=model, config=config, metrics=metrics)
    log.info(
        "finished: val recall %.3f precision %.3f at score ≥ %.2f",
        report.get("recall", np.nan),
        report.get("precision", np.nan),
        threshold,
    )
    return metrics


if __name__ == "__main__":
    main()
