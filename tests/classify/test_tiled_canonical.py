"""Canonical tiled training on tiny packed data (CPU), its export, and the runtime's canonical path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from classify.labels import TILED_CLASSES, tiled_target  # noqa: E402
from classify.manifest import read_manifest, validated_classes, write_entry  # noqa: E402
from classify.runtime import CANONICAL_NOTE, NO_RECORD_NOTE, Classifier  # noqa: E402
from classify.train.canonical_data import encode  # noqa: E402
from classify.train.tiled_canonical import (  # noqa: E402
    CanonicalData,
    TrainSamples,
    join_parts,
    main,
    save_parts,
)
from ecg.record import EcgRecord  # noqa: E402
from tests.classify.test_canonical import FS, N, beats  # noqa: E402
from tests.conftest import make_fake_models  # noqa: E402


def tiny_npz(path: Path, records: int = 16, folds: int = 2) -> Path:
    """Packed records like classify.train.canonical_data writes: half NORM (with R peaks), half AFIB."""
    rng = np.random.default_rng(0)
    signals, labels, peaks, offsets = [], [], [], [0]
    for i in range(records):
        rate = 1.0 + 0.4 * rng.random()
        signals.append(encode(beats(rate_hz=rate) + rng.normal(0, 0.01, (12, N)).astype(np.float32)))
        norm = i % 2 == 0
        labels.append(tiled_target(("NORM",) if norm else ("AFIB",)))
        p = np.round((np.arange(int(10 * rate)) / rate + 0.3) * FS).astype(np.int32) if norm else []
        peaks.append(np.asarray(p, np.int32))
        offsets.append(offsets[-1] + len(p))
    np.savez_compressed(
        path,
        deltas=np.stack(signals),
        fs=np.float32(FS),
        unit_mv=np.float32(0.005),
        labels=np.array(labels, np.uint8),
        classes=np.array(TILED_CLASSES),
        ecg_id=np.arange(records, dtype=np.int32),
        patient_id=np.arange(records, dtype=np.int32),
        split=np.array(["train"] * records),
        cv_fold=(np.arange(records) // 2 % folds).astype(np.int8),
        peaks=np.concatenate(peaks),
        peak_offsets=np.array(offsets, np.int64),
        folds=np.int32(folds),
    )
    return path


def test_samples_carry_their_record_fold_and_synthetic_ones_their_source_fold(tmp_path: Path) -> None:
    data = CanonicalData(tiny_npz(tmp_path / "d.npz"))
    assert len(data.sources) == 8  # the NORM records
    samples = TrainSamples(data, size=48, seed=0, synthetic=1.0)
    for i in range(6):
        tiles, target, fold = samples[i]
        assert tiles.shape == (3, 48, 48) and tiles.dtype == torch.uint8
        assert target.sum() == 1 and target[TILED_CLASSES.index("NORM")] == 0  # one synthetic rhythm class
        assert fold in (0, 1)
    real = TrainSamples(data, size=48, seed=0, synthetic=0.0)
    tiles, target, fold = real[0]
    index = [i for i in range(16) if (data.labels[i] == target.numpy()).all() and data.cv_fold[i] == fold]
    assert index  # a real sample is one of the records, with that record's fold


def test_training_writes_oof_metrics_and_a_model_that_exports_and_serves(tmp_path: Path, ecg_image) -> None:
    data = tiny_npz(tmp_path / "d.npz")
    run = tmp_path / "run"
    metrics = main(
        [
            "--data",
            str(data),
            "--out",
            str(run),
            "--size",
            "32",
            "--batch-size",
            "4",
            "--max-steps",
            "2",
            "--eval-every-s",
            "0",
            "--synthetic",
            "0.3",
        ]
    )
    assert metrics["images"] == 16 and metrics["steps"] == 2
    assert set(metrics["per_class"]) == set(TILED_CLASSES)
    assert metrics["per_class"]["NORM"]["support"] == 8
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["history"] and saved["history"][-1]["step"] == 2
    payload = torch.load(run / "model.pt", weights_only=False)
    assert payload["config"]["preprocess"] == "canonical" and payload["config"]["input_size"] == 32
    oof = np.load(run / "oof.npz")
    assert oof["probs"].shape == (16, len(TILED_CLASSES)) and ((oof["probs"] > 0) & (oof["probs"] < 1)).all()

    save_parts(payload["state_dict"], payload["config"], tmp_path, 3)
    joined = join_parts(tmp_path)
    for key, tensor in payload["state_dict"].items():
        assert torch.allclose(joined["state_dict"][key], tensor.float(), atol=1e-2, rtol=1e-2)

    from classify.train.export import export_run

    models = make_fake_models(tmp_path / "models")
    entry = export_run("tiled", run, models, weights="float32")
    assert entry.preprocess == "canonical" and entry.inputs["tiles"]["shape"] == ["batch", 3, 32, 32]
    assert entry.training["data"]["validation"].startswith("2-fold")
    classifier = Classifier(models, threads=1)
    assert classifier.tiled_input == "canonical" and classifier.tiled_size == 32
    assert "tiled" not in classifier.prepare(ecg_image[0])  # it reads the record, not the image
    record = EcgRecord(beats(n=5000, fs=500.0), fs=500.0)
    result = classifier.classify(ecg_image[0], record=record)
    assert result.tiled.input == "canonical" and result.tiled.note == CANONICAL_NOTE
    assert result.as_dict()["tiled"]["input"] == "canonical"
    assert 0.0 < sum(result.tiled.probabilities.values()) < len(TILED_CLASSES)
    again = classifier.classify_tiled(None, EcgRecord(beats(n=5000, fs=500.0) * 2, fs=500.0))
    assert again.probabilities != result.tiled.probabilities  # the record drives the answer


def test_canonical_classifier_without_a_digitizable_record_reports_that_it_did_not_run(tmp_path: Path) -> None:
    models = make_fake_models(tmp_path / "models")
    entry = read_manifest(models)["tiled"]
    per_class = {c: {"auroc": 0.9, "support": 20} for c in TILED_CLASSES}
    write_entry(
        models,
        type(entry)(
            **{
                **entry.as_dict(),
                "preprocess": "canonical",
                "metrics": {"per_class": per_class},
                "inputs": {"tiles": {"shape": ["batch", 3, 224, 224]}},
            }
        ),
    )
    classifier = Classifier(models, threads=1)
    assert validated_classes(read_manifest(models)["tiled"]) == TILED_CLASSES
    blank = np.full((400, 600, 3), 255, np.uint8)  # nothing for the digitizer to find
    result = classifier.classify_tiled(blank)
    assert result.note == NO_RECORD_NOTE and result.labels == () and result.validated == ()
    drawn = classifier.classify_tiled(blank, EcgRecord(beats(n=5000, fs=500.0), fs=500.0))
    assert drawn.note == CANONICAL_NOTE and drawn.validated == TILED_CLASSES
