"""bench/detector_eval.py: truth boxes from a kit-style configuration and the recall/precision it reports."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest

from ecg.formats.wfdb import write_wfdb
from ecg.record import LEADS, EcgRecord

REPO = Path(__file__).resolve().parents[2]
FS = 500.0


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("detector_eval", REPO / "bench" / "detector_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _kit_folder(tmp_path: Path, pad_px: int = 0) -> tuple[Path, int]:
    """One un-augmented 'kit' page: lead II plotted 0–10 s at 40 px/s, lead I 0–2.5 s on a row above."""
    ecg = nk.ecg_simulate(duration=10, sampling_rate=int(FS), heart_rate=70, random_state=1)
    signals = np.full((len(LEADS), len(ecg)), np.nan)
    signals[LEADS.index("II")] = ecg
    signals[LEADS.index("I")][:1250] = ecg[:1250]
    write_wfdb(EcgRecord(signals=signals, fs=FS), tmp_path / "k001.hea")
    t = np.arange(len(ecg)) / FS
    leads = [
        {"lead_name": "II", "start_sample": 0, "end_sample": 5000,
         "plotted_pixels": np.stack([600 - 40 * ecg, 100 + 40 * t], 1).tolist()},
        {"lead_name": "I", "start_sample": 0, "end_sample": 1250,
         "plotted_pixels": np.stack([300 - 40 * ecg[:1250], 100 + 40 * t[:1250]], 1).tolist()},
    ]
    (tmp_path / "k001.json").write_text(json.dumps({"width": 600, "height": 800, "leads": leads}))
    image = np.full((800 + 2 * pad_px, 600 + 2 * pad_px, 3), 255, np.uint8)
    for lead in leads:  # draw the traces: the image loader refuses blank pages
        points = (np.asarray(lead["plotted_pixels"])[:, ::-1] + pad_px).astype(np.int32)
        cv2.polylines(image, [points], False, (0, 0, 0), 2)
    cv2.imwrite(str(tmp_path / "k001.png"), image)
    pd.DataFrame([{"name": "k001", "image": "k001.png", "kind": "std-clean", "augmented": False}]).to_csv(
        tmp_path / "index.csv", index=False
    )
    return tmp_path, len(ecg)


def test_truth_boxes_cover_each_whole_beat_in_each_panel(bench, tmp_path: Path) -> None:
    folder, _ = _kit_folder(tmp_path)
    config = json.loads((folder / "k001.json").read_text())
    boxes = bench.truth_boxes(config, folder / "k001.hea", (800, 600, 3))
    record_beats = bench.beat_windows(bench.detect_r_peaks(bench.read_wfdb(folder / "k001.hea"))[1], FS)
    in_first_panel = [b for b in record_beats if b.stop_s * FS <= 1250]
    assert len(boxes) == len(record_beats) + len(in_first_panel)
    upper = boxes[boxes[:, 3] < 450]  # lead I's row
    assert len(upper) == len(in_first_panel) >= 1
    widths_s = (boxes[:, 2] - boxes[:, 0] - 2 * bench.PAD_PX) / 40
    spans_s = np.array([b.stop_s - b.start_s for b in record_beats + in_first_panel])
    assert np.allclose(np.sort(widths_s), np.sort(spans_s), atol=0.01)


def test_padding_of_the_page_shifts_the_boxes(bench, tmp_path: Path) -> None:
    folder, _ = _kit_folder(tmp_path, pad_px=50)
    config = json.loads((folder / "k001.json").read_text())
    plain = bench.truth_boxes(config, folder / "k001.hea", (800, 600, 3))
    padded = bench.truth_boxes(config, folder / "k001.hea", (900, 700, 3))
    assert np.allclose(padded - plain, 50.0)


class _Detector:
    """Stands in for the serving classifier: returns the boxes it is given."""

    def __init__(self, boxes: np.ndarray) -> None:
        self.boxes = boxes

    def detect_beats(self, image: np.ndarray):
        from classify.runtime import Beat

        return tuple(Beat(tuple(map(float, b)), 0.9) for b in self.boxes)


def test_recall_and_precision_follow_the_detections(bench, tmp_path: Path) -> None:
    folder, _ = _kit_folder(tmp_path)
    truth = bench.truth_boxes(json.loads((folder / "k001.json").read_text()), folder / "k001.hea", (800, 600, 3))
    perfect = bench.evaluate(folder, None, 0, _Detector(truth))
    assert perfect["iou_0.5"]["recall"] == 1.0 and perfect["iou_0.5"]["precision"] == 1.0
    half = truth[::2]
    wrong = truth[:3] + np.array([0.0, 200.0, 0.0, 200.0])  # same x, a row lower: no overlap
    mixed = bench.evaluate(folder, None, 0, _Detector(np.concatenate([half, wrong])))
    assert mixed["iou_0.5"]["recall"] == pytest.approx(len(half) / len(truth))
    assert mixed["iou_0.5"]["precision"] == pytest.approx(len(half) / (len(half) + 3))
    assert mixed["iou_0.5"]["per_kind"]["std-clean"]["matched"] == len(half)
