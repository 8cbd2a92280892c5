"""Splits, rendering a data set through DataSynth, and the input cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classify.train.cache import build_cache, cache_path, cache_preprocess
from classify.train.data import assign_splits, read_beat_boxes, read_manifest, render_dataset, synthetic_jobs
from classify.train.rhythm_synth import RHYTHM_KINDS

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for ecg_id in range(1, 301):
        patient = int(rng.integers(1, 120))
        rows.append(
            {
                "ecg_id": ecg_id,
                "patient_id": patient,
                "fold": 1 + patient % 10,
                "record_path": str(SAMPLES / "ptbxl-00001.hea"),
                "tiled_labels": "NORM",
                "fusion_label": 0,
            }
        )
    return pd.DataFrame(rows).set_index("ecg_id")


@pytest.mark.parametrize("method", ["folds", "patients"])
def test_patients_never_cross_splits_and_reserved_records_are_test(method):
    table = _table()
    split = assign_splits(table, method, reserved_ids=[5])
    assert (split.groupby(table["patient_id"]).nunique() == 1).all()
    assert split[5] == "test" and (split[table["patient_id"] == table.loc[5, "patient_id"]] == "test").all()
    assert set(split) == {"train", "val", "test"}
    if method == "folds":
        assert (split[(table["fold"] == 9) & (split.index != 5)] != "train").all()


def test_unknown_split_method_is_refused():
    with pytest.raises(ValueError, match="valid: folds, patients"):
        assign_splits(_table(), "random")


def test_synthetic_jobs_come_from_normal_training_records_only():
    table = _table().head(6)
    table["split"] = ["train", "train", "val", "test", "train", "train"]
    table.loc[table.index[1], "tiled_labels"] = "AFIB"
    jobs = synthetic_jobs(table, Path("/tmp/x"), per_kind=2, seed=0, distort="none", max_side=800)
    assert len(jobs) == 2 * len(RHYTHM_KINDS)
    assert {job.rhythm for job in jobs} == set(RHYTHM_KINDS)
    assert {job.row["ecg_id"] for job in jobs} <= {1, 5, 6}
    assert all(job.row["synthetic"] == 1 and job.row["fusion_label"] is None for job in jobs)
    assert all(job.row["tiled_labels"] == job.rhythm for job in jobs)


def test_render_and_cache_one_record(tmp_path):
    table = _table().head(1)
    table["split"] = "train"
    render_dataset(table, tmp_path, renders_per_record=1, seed=3, distort="none", max_side=900)
    manifest = read_manifest(tmp_path / "manifest.csv")
    assert len(manifest) == 1 and manifest.loc[0, "tiled_labels"] == ("NORM",)
    boxes = read_beat_boxes(manifest.loc[0, "beats"])
    assert len(boxes) >= 5 and (boxes[:, 2] > boxes[:, 0]).all() and boxes.max() <= 900
    assert build_cache(manifest, tmp_path / "cache") == 1
    assert cache_preprocess(tmp_path / "cache") == "none"
    with np.load(cache_path(tmp_path / "cache", manifest.loc[0, "image"])) as data:
        assert data["tiles"].shape == (3, 224, 224) and data["canvas"].shape == (3, 384, 512)
        assert len(data["canvas_boxes"]) == len(boxes) and data["crop_mask"].sum() == min(len(boxes), 24)
    assert build_cache(manifest, tmp_path / "cache") == 0  # already there
    image_path = Path(manifest.loc[0, "image"])
    written = image_path.stat().st_mtime_ns
    render_dataset(table, tmp_path, renders_per_record=2, seed=3, distort="none", max_side=900)  # one more render
    again = read_manifest(tmp_path / "manifest.csv")
    assert len(again) == 2 and again.loc[0, "image"] == str(image_path)
    assert image_path.stat().st_mtime_ns == written  # the first render was kept, not redone
