"""Training rows from this project's digitizer on its own DataSynth renders (``waveform features-digitized``): the
print mix, the serving path on one page, the append/resume loop on a few PTB-XL records (skipped without
``<repo>/../shared/data``), and the fit's use of the rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from analyze.simulate import simulate_ecg
from classify.features import FEATURE_NAMES, FEATURE_VERSION
from classify.train.digitized_rows import (
    KIND_SHARES,
    PrintChoice,
    choose_print,
    digitized_features,
    load_digitized,
    register_layouts,
    render_page,
)

PTBXL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ptbxl"


def test_print_choices_follow_the_foreign_mix_and_exist_in_datasynth():
    from synth.layout import LAYOUTS, layout_def

    names = register_layouts()
    assert layout_def("3x4+1/V1").rhythm == ("V1",) and layout_def("6x2+1/cabrera").grid[0] == ("aVL", "V1")
    assert all(len(layout_def(n).leads) == 12 for n in names)
    assert not set(names) & set(LAYOUTS)  # DataSynth's own table (its random draw) is left alone
    choices = [choose_print(np.random.default_rng([i, 0])) for i in range(3000)]
    kinds = Counter(c.kind for c in choices)
    for kind, share in KIND_SHARES.items():
        assert abs(kinds[kind] / len(choices) - share) < 0.03, kind
    assert all(layout_def(c.layout) for c in choices)
    rhythm = Counter(c.layout.split("/")[1] for c in choices if c.kind == "other-rhythm")
    assert set(rhythm) == {"V1", "V5", "aVF", "III"} and rhythm["V1"] > rhythm["III"]
    cabrera = [c.layout.endswith("cabrera") for c in choices if c.kind in ("6x2", "12x1", "other-rhythm")]
    assert 0.15 < np.mean(cabrera) < 0.25
    assert {c.level for c in choices if c.kind == "std-clean"} == {"none"}


def test_a_clean_page_goes_through_the_serving_path():
    record = simulate_ecg(heart_rate_bpm=75.0, seed=2)
    image = render_page(record, PrintChoice("std-clean", "3x4+1/II", "red", 200.0, "none"), seed=4)
    assert image.dtype == np.uint8 and image.shape[2] == 3
    row = digitized_features(image)
    assert "error" not in row and row["feature_version"] == FEATURE_VERSION and row["measurable"]
    assert len(row["features"]) == len(FEATURE_NAMES)
    rate = row["features"][FEATURE_NAMES.index("heart_rate_bpm")]
    assert rate is not None and 65 < rate < 85
    blank = digitized_features(np.full((600, 900, 3), 255, dtype=np.uint8))
    assert set(blank) == {"error"}  # refused with a reason, no traceback


@pytest.mark.skipif(not (PTBXL / "ptbxl_database.csv").is_file(), reason=f"PTB-XL not found at {PTBXL}")
def test_features_digitized_appends_resumes_and_keeps_splits(tmp_path):
    from classify.train.waveform import main

    out = tmp_path / "rows.jsonl"
    args = ["features-digitized", "--ptbxl", str(PTBXL), "--out", str(out), "--limit", "1", "--splits", "val"]
    assert main(args) == 0
    assert main(args) == 0  # resumes: the first record is skipped, a second one is added
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and len({r["ecg_id"] for r in rows}) == 2
    assert {r["split"] for r in rows} == {"val"} and all(len(r["labels"]) == 9 for r in rows)
    with out.open("a") as handle:
        handle.write('{"ecg_id": 1, "split": "val", "varia')  # a run killed mid-line
    data = load_digitized([out], "val")
    ok = sum("error" not in r for r in rows)
    assert data["X"].shape == (ok, len(FEATURE_NAMES)) and data["y"].shape == (ok, 9)
    assert len(load_digitized([out], "train")["X"]) == 0


def test_training_rows_add_digitized_train_rows_with_their_weight(tmp_path):
    from classify.train.waveform import WAVEFORM_LABELS, training_rows

    n_features = len(FEATURE_NAMES)
    np.savez(tmp_path / "train.npz", X=np.zeros((4, n_features), np.float32),
             y=np.zeros((4, len(WAVEFORM_LABELS)), np.float32), ecg_id=np.arange(4), variant=np.zeros(4),
             feature_version=FEATURE_VERSION)
    lines = [{"ecg_id": 10 + i, "split": split, "variant": 0, "seed": 0, "kind": "6x2",
              "labels": [1, 0, None, 0, 0, 0, 0, 0, 0], "features": [0.5] * n_features,
              "feature_version": FEATURE_VERSION} for i, split in enumerate(["train", "train", "val"])]
    lines.append({"ecg_id": 20, "split": "train", "variant": 0, "seed": 0, "error": "no ECG found"})
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    train = training_rows(tmp_path, (), (path,), digitized_weight=2.5)
    assert len(train["X"]) == 6 and train["digitized"].sum() == 2
    assert np.allclose(train["weight"], [1, 1, 1, 1, 2.5, 2.5]) and np.isnan(train["y"][4, 2])
    bad = tmp_path / "old.jsonl"
    bad.write_text(json.dumps({**lines[0], "feature_version": "waveform-features-0"}) + "\n")
    with pytest.raises(SystemExit, match="re-extract"):
        training_rows(tmp_path, (), (bad,))
