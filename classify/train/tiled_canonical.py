"""Train the RGB-tiled ResNet on canonical renders of true signals, with patient-wise K-fold validation.

Example (the shipped model: one H200, 16 loader workers; the same command runs on CPU, slower)::

    python -m classify.train.tiled_canonical --data data/canonical.npz --out runs/tiled_canonical \\
        --time-budget-min 6.5 --folds 5 --batch-size 96 --workers 16 --device cuda --seed 0

Every sample is drawn afresh: a development record (class-balanced draw) or, with probability ``--synthetic``, a
labelled synthetic rhythm built from a NORM record's beats (:mod:`classify.train.rhythm_synth`); then digitization
errors and a print layout's mask (:mod:`classify.train.canonical_augment`), then the serving renderer
(:func:`classify.canonical.canonical_tiles`). K + 1 networks learn from the same batches: fold model *k* ignores the
samples whose patient is in fold *k* (synthetic ones inherit their source's fold), the full model uses all. Every
``--eval-every-s`` seconds each fold model predicts its held-out fold (fixed renders: same errors and layouts,
seed fixed), giving out-of-fold (OOF) predictions for every development record; the full model's weights at the
best OOF mean AUROC are kept, and its thresholds and validation figures are the OOF ones at that point (the shipped
network is the full one, trained like the fold models on all folds).

Outputs in ``--out``: ``train.log``, ``metrics.json`` (OOF figures per class, history), ``oof.npz``, ``model.pt``
(what :mod:`classify.train.export` reads; ``--half-parts N`` writes it instead as N float16 parts for transfer,
rejoined by :func:`join_parts`).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from classify.canonical import CANONICAL_SIZE, canonical_tiles
from classify.labels import TILED_CLASSES
from classify.train.canonical_augment import printed_record
from classify.train.canonical_data import decode
from classify.train.harness import command_line, set_cosine_lr
from classify.train.metrics import auroc, choose_thresholds, multilabel_report
from classify.train.nets import tiled_resnet
from ecg.train.harness import seed_everything

MODULE = "classify.train.tiled_canonical"
SYNTH_KINDS = ("AESC", "AT", "AFLT", "PAC", "AFIB", "PVC")
SYNTH_P = (0.25, 0.25, 0.2, 0.1, 0.1, 0.1)
MIN_SUPPORT = 10


class CanonicalData:
    """The packed development records (:mod:`classify.train.canonical_data`), decoded once."""

    def __init__(self, path: Path, limit: int = 0) -> None:
        z = np.load(path)
        n = limit or len(z["labels"])
        self.signals = decode(z["deltas"][:n])
        self.fs = float(z["fs"])
        self.labels = z["labels"][:n].astype(np.float32)
        self.cv_fold = z["cv_fold"][:n].astype(np.int64)
        self.ecg_id = z["ecg_id"][:n]
        self.folds = int(z["folds"])
        offsets = z["peak_offsets"]
        self.peaks = [z["peaks"][offsets[i] : offsets[i + 1]] for i in range(n)]
        self.sources = np.array([i for i in range(n) if len(self.peaks[i]) >= 5], dtype=np.int64)
        counts = self.labels.sum(0)
        rarity = np.where(counts > 0, (len(self.labels) / np.maximum(counts, 1)) ** 0.5, 0.0)
        weights = np.maximum((self.labels * rarity).max(1), 1.0)
        self.weights = weights / weights.sum()


def synthetic_signals(data: CanonicalData, source: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """A labelled synthetic rhythm from a NORM record's beats (``(12, n)`` mV)."""
    from classify.train.rhythm_synth import synthesize_rhythm
    from ecg.record import EcgRecord

    record = EcgRecord(data.signals[source], fs=data.fs)
    return synthesize_rhythm(record, kind, rng, data.peaks[source]).signals


class TrainSamples(Dataset):
    """Sample ``i`` = a fresh draw from ``default_rng([seed, i])``: ``(uint8 tiles, float target, fold)``."""

    def __init__(self, data: CanonicalData, *, size: int, seed: int, synthetic: float, length: int = 10**8) -> None:
        self.data, self.size, self.seed, self.synthetic, self.length = data, size, seed, synthetic, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int):
        rng = np.random.default_rng([self.seed, i])
        data = self.data
        target = np.zeros(len(TILED_CLASSES), np.float32)
        signals = None
        if len(data.sources) and rng.random() < self.synthetic:
            kind = str(rng.choice(SYNTH_KINDS, p=SYNTH_P))
            source = int(rng.choice(data.sources))
            try:
                signals = synthetic_signals(data, source, kind, rng)
                target[TILED_CLASSES.index(kind)] = 1.0
                fold = data.cv_fold[source]
            except ValueError:
                signals = None
        if signals is None:
            index = int(rng.choice(len(data.labels), p=data.weights))
            signals, target, fold = data.signals[index], data.labels[index], data.cv_fold[index]
        tiles = canonical_tiles(printed_record(signals, data.fs, rng), data.fs, self.size)
        return torch.from_numpy(tiles), torch.from_numpy(target), int(fold)


class FixedRenders(Dataset):
    """Record ``i`` through the same print pipeline with a fixed seed (validation)."""

    def __init__(self, data: CanonicalData, *, size: int, seed: int) -> None:
        self.data, self.size, self.seed = data, size, seed

    def __len__(self) -> int:
        return len(self.data.labels)

    def __getitem__(self, i: int):
        rng = np.random.default_rng([self.seed, 999_983, i])
        printed = printed_record(self.data.signals[i], self.data.fs, rng)
        return torch.from_numpy(canonical_tiles(printed, self.data.fs, self.size))


def mean_auroc(targets: np.ndarray, probs: np.ndarray, min_support: int = MIN_SUPPORT) -> float:
    """Mean AUROC over the classes with ≥ ``min_support`` positives (NaN when none)."""
    values = [auroc(targets[:, k], probs[:, k]) for k in range(targets.shape[1]) if targets[:, k].sum() >= min_support]
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def _as_input(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    x = images.to(device, non_blocking=True).float().div_(255.0)
    return x.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else x


def predict_oof(models, val_images: torch.Tensor, folds: np.ndarray, device, batch: int) -> np.ndarray:
    """Fold model *k*'s probabilities on the records of fold *k*, for every *k*."""
    probs = np.zeros((len(folds), len(TILED_CLASSES)), np.float32)
    for k, model in enumerate(models[:-1]):
        model.eval()
        idx = np.flatnonzero(folds == k)
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            for a in range(0, len(idx), batch):
                x = _as_input(val_images[idx[a : a + batch]], device)
                probs[idx[a : a + batch]] = torch.sigmoid(model(x).float()).cpu().numpy()
        model.train()
    return probs


def arguments() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train the canonical-input tiled ResNet with patient-wise K-fold OOF.")
    p.add_argument("--data", type=Path, required=True, help=".npz of classify.train.canonical_data")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--size", type=int, default=CANONICAL_SIZE, help="tile side (px)")
    p.add_argument("--time-budget-min", type=float, default=30.0)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--synthetic", type=float, default=0.15, help="share of synthetic-rhythm samples")
    p.add_argument("--eval-every-s", type=float, default=60.0)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="first N records only (smoke tests)")
    p.add_argument("--half-parts", type=int, default=0, help="save the weights as N float16 parts instead of model.pt")
    return p


def main(argv: list[str] | None = None) -> dict:
    args = arguments().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log_file = open(args.out / "train.log", "a", buffering=1)  # noqa: SIM115 - closed at the end

    def log(message: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {message}"
        print(line, flush=True)
        log_file.write(line + "\n")

    torch.set_num_threads(max(1, args.threads))
    seed_everything(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.use_deterministic_algorithms(False)
    data = CanonicalData(args.data, args.limit)
    folds = data.folds
    log(f"start {command_line(MODULE)}; {len(data.labels)} records, {folds} folds, {len(data.sources)} NORM sources")
    log("positives " + json.dumps(dict(zip(TILED_CLASSES, data.labels.sum(0).astype(int).tolist(), strict=True))))
    loader_args = dict(num_workers=args.workers, pin_memory=device.type == "cuda")
    if args.workers:
        loader_args.update(persistent_workers=False, prefetch_factor=4)
    val_loader = DataLoader(FixedRenders(data, size=args.size, seed=args.seed), batch_size=64, **loader_args)
    val_images = torch.cat(list(val_loader)).to(device)
    log(f"validation renders {tuple(val_images.shape)}")

    models = [tiled_resnet().to(device) for _ in range(folds + 1)]
    if device.type == "cuda":
        models = [m.to(memory_format=torch.channels_last) for m in models]
    fused = {"fused": True} if device.type == "cuda" else {}
    optimizers = [torch.optim.AdamW(m.parameters(), lr=args.lr, weight_decay=1e-4, **fused) for m in models]
    train = TrainSamples(data, size=args.size, seed=args.seed, synthetic=args.synthetic)
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=False, drop_last=True, **loader_args)
    budget_s = args.time_budget_min * 60.0
    start = last_eval = time.monotonic()
    history, best = [], {"score": -np.inf}
    step, seen, losses = 0, 0, []

    def evaluate() -> None:
        probs = predict_oof(models, val_images, data.cv_fold, device, 128)
        score = mean_auroc(data.labels, probs)
        per = {c: round(auroc(data.labels[:, k], probs[:, k]), 4) for k, c in enumerate(TILED_CLASSES)}
        elapsed = time.monotonic() - start
        history.append({"step": step, "images": seen, "elapsed_s": round(elapsed, 1), "oof_mean_auroc": score})
        log(f"eval step {step} images {seen} ({seen / max(elapsed, 1e-9):.0f}/s): OOF mean AUROC {score:.4f} {per}")
        if np.isfinite(score) and score > best["score"] or not np.isfinite(best["score"]):
            state = {k: v.detach().float().cpu().clone() for k, v in models[-1].state_dict().items()}
            best.update(score=score, step=step, probs=probs, state=state)
            if args.half_parts:  # a run cut short still leaves its best weights
                save_parts(state, {"input_size": args.size, "step": step}, args.out, args.half_parts)

    for images, targets, fold in loader:
        elapsed = time.monotonic() - start
        if elapsed >= budget_s or (args.max_steps and step >= args.max_steps):
            break
        x, y, fold = _as_input(images, device), targets.to(device, non_blocking=True), fold.to(device)
        for k, (model, optimizer) in enumerate(zip(models, optimizers, strict=True)):
            set_cosine_lr(optimizer, args.lr, elapsed / budget_s)
            weight = (fold != k).float() if k < folds else torch.ones_like(fold, dtype=torch.float32)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(x)
            loss_per = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), y, reduction="none")
            loss = (loss_per.mean(1) * weight).sum() / weight.sum().clamp(min=1.0)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if k == folds:
                losses.append(loss.item())
        step += 1
        seen += len(images)
        if step % 50 == 0:
            log(f"step {step} loss(full) {np.mean(losses[-50:]):.4f} {seen / (time.monotonic() - start):.0f} img/s")
        if time.monotonic() - last_eval >= args.eval_every_s:
            evaluate()
            last_eval = time.monotonic()
    evaluate()

    targets, probs = data.labels, best["probs"]
    untrained = frozenset(c for k, c in enumerate(TILED_CLASSES) if targets[:, k].sum() == 0 and c not in SYNTH_KINDS)
    thresholds = choose_thresholds(targets, probs, TILED_CLASSES, untrained=untrained)
    metrics = {
        "split": f"out-of-fold ({folds}-fold, patient-wise) over the development records",
        "images": len(targets),
        "mean_auroc": mean_auroc(targets, probs),
        **multilabel_report(targets, probs, TILED_CLASSES, thresholds),
        "best_step": best["step"],
        "steps": step,
        "train_images_seen": seen,
        "train_seconds": round(time.monotonic() - start, 1),
        "history": history,
    }
    config = {
        "depth": 18,
        "input": "canonical",
        "input_size": args.size,
        "classes": list(TILED_CLASSES),
        "thresholds": thresholds,
        "seed": args.seed,
        "command": command_line(MODULE),
        "preprocess": "canonical",
        "data": str(args.data),
        "folds": folds,
        "synthetic": args.synthetic,
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
    }
    np.savez_compressed(args.out / "oof.npz", probs=probs, targets=targets, ecg_id=data.ecg_id, fold=data.cv_fold)
    (args.out / "metrics.json").write_text(json.dumps(_safe(metrics), indent=2) + "\n")
    if args.half_parts:
        save_parts(best["state"], config, args.out, args.half_parts)
    else:
        torch.save({"state_dict": best["state"], "config": config}, args.out / "model.pt")
    log(f"finished: OOF mean AUROC {metrics['mean_auroc']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, {step} steps")
    log_file.close()
    return metrics


def _safe(value):
    from classify.manifest import json_safe

    return json_safe(value)


def save_parts(state: dict, config: dict, out: Path, parts: int) -> None:
    """``model.pt`` with float16 tensors, cut into ``parts`` byte chunks ``model.half.<i>`` (transfer limits)."""
    buffer = io.BytesIO()
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}
    torch.save({"state_dict": half, "config": config}, buffer)
    payload = buffer.getvalue()
    step = -(-len(payload) // parts)
    for i in range(parts):
        (out / f"model.half.{i}").write_bytes(payload[i * step : (i + 1) * step])


def join_parts(folder: Path) -> dict:
    """Read back :func:`save_parts` (float16 → float32 tensors)."""
    names = sorted(folder.glob("model.half.*"), key=lambda p: int(p.suffix[1:]))
    payload = torch.load(io.BytesIO(b"".join(p.read_bytes() for p in names)), map_location="cpu")
    payload["state_dict"] = {k: (v.float() if v.is_floating_point() else v) for k, v in payload["state_dict"].items()}
    return payload


if __name__ == "__main__":
    main()
