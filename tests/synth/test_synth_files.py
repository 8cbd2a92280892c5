"""DataSynth files: ground-truth JSON and sidecars, labels, the `ecgscreen synth` commands and batches."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from ecg.errors import EcgInputError
from ecg.io import read_record, write_record
from synth import find_records, load_label_table, plan_batch, run_batch, synthesize, write_sample
from synth.demo import synthetic_record

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def record_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("records")
    for i in (1, 2, 3):
        write_record(synthetic_record(seed=i), folder / f"rec{i}.csv")
    return folder


@pytest.fixture(scope="module")
def labels_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("labels") / "ptbxl_database.csv"
    path.write_text(
        "ecg_id,patient_id,scp_codes,strat_fold,filename_lr,filename_hr\n"
        "2,77.0,\"{'AFIB': 100.0}\",4,records100/00000/rec2_lr,records500/00000/rec2\n",
        encoding="utf-8",
    )
    return path


def test_written_truth_matches_the_rendered_sample(tmp_path):
    rendered = synthesize(synthetic_record(seed=4), seed=3, distortion="scan", labels={"scp_codes": {"NORM": 100.0}})
    paths = write_sample(rendered, tmp_path / "ecg.jpg", tmp_path / "ecg.json")
    doc = json.loads(paths.truth.read_text())
    truth = rendered.truth
    assert doc["schema"].startswith("ecgscreen.synth.truth/")
    assert doc["seed"] == 3 and doc["labels"] == {"scp_codes": {"NORM": 100.0}}
    assert doc["image_size"] == list(cv2.imread(str(paths.image)).shape[1::-1])
    assert doc["render"]["px_per_mm"]["x"] == pytest.approx(truth.spec.dpi / 25.4)
    assert len(doc["panels"]) == len(truth.panels) and len(doc["beats"]) == len(truth.beats)
    assert [d["name"] for d in doc["distortions"]] == [d.name for d in truth.distortions]
    assert all(len(b["box"]) == 4 for b in doc["beats"])
    points = np.load(paths.points)
    assert np.allclose(points["xy"], truth.image_points(), atol=1e-3)
    assert len(points["sample"]) == len(points["panel"]) == len(points["visible"])
    first = doc["panels"][0]
    a, b = first["points"]
    assert (points["panel"][a:b] == 0).all()
    assert np.array_equal(cv2.imread(str(paths.mask), cv2.IMREAD_UNCHANGED), rendered.mask)
    plotted = read_record(paths.signals)
    assert np.array_equal(np.isnan(plotted.signals), np.isnan(truth.plotted.signals))
    assert np.allclose(plotted.signals, truth.plotted.signals, atol=1e-3, equal_nan=True)


def test_bad_output_names_are_refused(tmp_path):
    rendered = synthesize(synthetic_record(), seed=0, distortion="none", dpi=100)
    with pytest.raises(EcgInputError, match="image must end in"):
        write_sample(rendered, tmp_path / "x.gif")
    with pytest.raises(EcgInputError, match="must be a .json"):
        write_sample(rendered, tmp_path / "x.png", tmp_path / "x.txt")


def test_labels_come_from_a_ptbxl_table_or_the_record(labels_csv, record_folder):
    table = load_label_table(labels_csv)
    from synth import labels_for

    labels = labels_for(record_folder / "rec2.csv", table)
    assert labels["scp_codes"] == {"AFIB": 100.0} and labels["patient_id"] == 77 and labels["strat_fold"] == 4
    assert labels_for(record_folder / "rec9.csv", table) == {}
    tagged = synthetic_record().with_meta(comments=["scp_codes: {'PVC': 100.0}"])
    assert synthesize(tagged, seed=0, distortion="none", dpi=100).truth.labels == {"scp_codes": {"PVC": 100.0}}


def test_cli_synth_writes_image_and_truth(tmp_path, record_folder):
    runner = CliRunner()
    out = tmp_path / "img.png"
    result = runner.invoke(app, ["synth", str(record_folder / "rec1.csv"), "-o", str(out), "--truth",
                                 str(tmp_path / "t.json"), "--distort", "photo", "--seed", "2", "--layout", "6x2",
                                 "--dpi", "120"])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["render"]["layout"] == "6x2" and doc["render"]["dpi"] == 120
    assert (tmp_path / "t_mask.png").exists() and (tmp_path / "t_points.npz").exists()
    assert max(cv2.imread(str(out)).shape) <= 1800


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layout", "5x5"], "unknown layout"),
        (["--dpi", "5"], "dpi 5 is outside"),
        (["--distort", "melted"], "unknown distortion level"),
    ],
)
def test_cli_synth_reports_bad_arguments(tmp_path, record_folder, args, message):
    result = CliRunner().invoke(app, ["synth", str(record_folder / "rec1.csv"), "-o", str(tmp_path / "x.png"), *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, EcgInputError) and message in str(result.exception)


def test_batch_is_reproducible_and_independent_of_workers(tmp_path, record_folder, labels_csv):
    records = find_records(record_folder)
    assert [p.name for p in records] == ["rec1.csv", "rec2.csv", "rec3.csv"]
    table = load_label_table(labels_csv)
    choices = {"dpi": 100}
    serial = list(run_batch(plan_batch(records, tmp_path / "a", 3, 5, label_table=table, spec_choices=choices), 1))
    parallel = list(run_batch(plan_batch(records, tmp_path / "b", 2, 5, label_table=table, spec_choices=choices), 2))
    assert [i.error for i in serial] == [None, None, None]
    assert sorted(Path(i.record).name for i in serial) == ["rec1.csv", "rec2.csv", "rec3.csv"]  # each once
    assert len(parallel) == 2
    for a, b in zip(serial[:2], parallel, strict=True):
        assert a.image == b.image and a.seed == b.seed and a.level == b.level
        assert (tmp_path / "a" / a.image).read_bytes() == (tmp_path / "b" / b.image).read_bytes()
    rows = list(csv.DictReader((tmp_path / "a" / "index.csv").open()))
    assert len(rows) == 3
    rec2 = next(r for r in rows if r["record"].endswith("rec2.csv"))
    assert json.loads(rec2["labels"])["scp_codes"] == {"AFIB": 100.0}
    truth = json.loads((tmp_path / "a" / rec2["truth"]).read_text())
    assert truth["labels"]["scp_codes"] == {"AFIB": 100.0}


def test_batch_reports_bad_records_without_stopping(tmp_path):
    folder = tmp_path / "in"
    write_record(synthetic_record(duration_s=4.0), folder / "short.csv")
    write_record(synthetic_record(), folder / "good.csv")
    items = list(run_batch(plan_batch(find_records(folder), tmp_path / "out", 2, 0, level="none",
                                      spec_choices={"dpi": 100, "speed_mm_s": 25.0}), 1))
    errors = {Path(i.record).name: i.error for i in items}
    assert errors["good.csv"] is None and "lasts 4.00 s" in errors["short.csv"]
    with pytest.raises(EcgInputError, match="no record files"):
        find_records(tmp_path / "out" / "..", ("*.xyz",))


def test_cli_batch_writes_n_images(tmp_path, record_folder):
    result = CliRunner().invoke(app, ["synth-batch", str(record_folder), "-o", str(tmp_path / "set"), "-n", "2",
                                      "--seed", "1", "--workers", "1", "--dpi", "100", "--glob", "*.csv"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "set").glob("00000?.json"))) == 2


@pytest.mark.shared_data
def test_real_ptbxl_record_renders_with_exact_truth():
    path = SHARED / "ptbxl" / "records500" / "00000" / "00001_hr.hea"
    if not path.exists():
        pytest.skip(f"shared PTB-XL data not found at {path}")
    rendered = synthesize(read_record(path), seed=1, distortion=[("rotation", 0.5), ("wrinkles", 0.7)],
                          layout="3x4+1", paper="red")
    points = rendered.truth.image_points()
    h, w = rendered.image.shape[:2]
    inside = (points[:, 0] > 0) & (points[:, 0] < w - 1) & (points[:, 1] > 0) & (points[:, 1] < h - 1)
    px = np.round(points[inside]).astype(int)
    dark = rendered.image[px[:, 1], px[:, 0]].max(axis=1) < 140
    assert dark.mean() >= 0.98
    assert len(rendered.truth.beats) > 10
