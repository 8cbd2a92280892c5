"""Render a PTB-XL training set with DataSynth and cache the network inputs.

Example::

    python -m classify.train.prepare --ptbxl ../shared/data/ptbxl --kit-dev ../shared/data/kit-dev \\
        --out data/cls --split patients --renders train=2,val=1,test=1 --seed 0 --workers 2

writes ``data/cls/manifest.csv``, ``data/cls/images/*.png`` + ``*.beats.json`` and ``data/cls/cache/*.npz``.
``--per-split N`` keeps at most N records per split (stratified by fusion label; for smoke runs).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from classify.preprocess import PREPROCESS_METHODS
from classify.train.cache import build_cache
from classify.train.data import SPLIT_METHODS, assign_splits, kit_dev_ids, ptbxl_table, read_manifest, render_dataset
from classify.train.synth_adapter import DISTORT_LEVELS


def parse_renders(text: str) -> dict[str, int] | int:
    """``"3"`` → 3; ``"train=2,val=1"`` → ``{"train": 2, "val": 1}``."""
    if "=" not in text:
        return int(text)
    out = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key.strip() not in ("train", "val", "test"):
            raise ValueError(f"unknown split {key!r} in --renders; use train, val, test")
        out[key.strip()] = int(value)
    return out


def subsample(table: pd.DataFrame, per_split: int, seed: int) -> pd.DataFrame:
    """At most ``per_split`` records per split, taking abnormal and normal records alternately (reproducible)."""
    parts = []
    for _, rows in table.groupby("split"):
        rows = rows.sample(frac=1.0, random_state=seed)
        rank = rows.groupby(rows["fusion_label"].fillna(-1)).cumcount()
        parts.append(rows.loc[rank.sort_values(kind="mergesort").index[:per_split]])
    return pd.concat(parts).sort_index()


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description="Render PTB-XL records with DataSynth and cache the inputs.")
    parser.add_argument("--ptbxl", type=Path, required=True)
    parser.add_argument("--kit-dev", type=Path, default=None, help="its records are kept in the test split")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--split", choices=SPLIT_METHODS, default="patients")
    parser.add_argument("--renders", default="1", help='images per record: "2" or "train=2,val=1,test=1"')
    parser.add_argument("--distort", choices=DISTORT_LEVELS, default="mix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-side", type=int, default=1600)
    parser.add_argument("--per-split", type=int, default=0, help="keep at most N records per split (0 = all)")
    parser.add_argument(
        "--synthetic-per-kind",
        type=int,
        default=0,
        help="labelled synthetic rhythm images per rare class (PAC PVC AESC AT AFIB AFLT), training split only",
    )
    parser.add_argument(
        "--preprocess",
        choices=PREPROCESS_METHODS,
        default="none",
        help="cache raw images, or images rectified by the digitizer",
    )
    args = parser.parse_args(argv)

    table = ptbxl_table(args.ptbxl)
    reserved = kit_dev_ids(args.kit_dev) if args.kit_dev else []
    table["split"] = assign_splits(table, args.split, reserved_ids=reserved)
    if args.per_split:
        table = subsample(table, args.per_split, args.seed)
    print(f"records per split: {table['split'].value_counts().to_dict()}")
    started = time.monotonic()
    render_dataset(
        table,
        args.out,
        renders_per_record=parse_renders(args.renders),
        seed=args.seed,
        distort=args.distort,
        max_side=args.max_side,
        synthetic_per_kind=args.synthetic_per_kind,
        workers=args.workers,
    )
    manifest = read_manifest(args.out / "manifest.csv")
    print(f"rendered {len(manifest)} images in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    built = build_cache(manifest, args.out / "cache", preprocess=args.preprocess, workers=args.workers)
    print(f"cached {built} images in {time.monotonic() - started:.0f} s → {args.out / 'cache'}")
    return manifest


if __name__ == "__main__":
    main()
