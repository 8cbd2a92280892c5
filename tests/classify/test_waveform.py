"""Waveform features, the degradation that makes their training data, and the ONNX export of the trees: served
probabilities must equal the Python model's, rows with missing (NaN) features included."""

import numpy as np
import pytest

from analyze import measure
from analyze.simulate import simulate_ecg
from classify.features import FEATURE_NAMES, record_features, recorded_share
from classify.train.degrade import degrade, print_mask
from ecg.record import LEADS, EcgRecord

pytest.importorskip("skl2onnx", reason="training extra (skl2onnx) not installed")


def _record(seed: int = 0) -> EcgRecord:
    """A 10 s, 500 Hz simulated 12-lead record at 75 /min."""
    return simulate_ecg(heart_rate_bpm=75.0, seed=seed)


def test_feature_vector_has_fixed_order_and_nan_for_missing():
    record = _record()
    row = record_features(record, measure(record))
    assert row.shape == (len(FEATURE_NAMES),) and row.dtype == np.float32
    index = {name: i for i, name in enumerate(FEATURE_NAMES)}
    assert 70 < row[index["heart_rate_bpm"]] < 80  # 0.8 s RR
    assert np.allclose(row[[index[f"{lead}_recorded"] for lead in LEADS]], 1.0)
    empty = record_features(record, None)
    assert np.isnan(empty[: index["I_recorded"]]).all() and np.allclose(empty[index["I_recorded"]:], 1.0)


def test_print_mask_matches_a_3x4_printout():
    mask = print_mask(5000, "3x4+1", np.random.default_rng(1))
    shares = mask.mean(axis=1)
    assert sorted(np.round(shares, 2)) == [0.25] * 11 + [1.0]  # 11 leads 2.5 s, one rhythm strip 10 s
    assert print_mask(5000, "12x1", np.random.default_rng(0)).all()


def test_degrade_keeps_the_record_measurable_and_masks_it():
    record = _record()
    shares = []
    for seed in range(6):
        degraded = degrade(record, np.random.default_rng(seed), layout="3x4+1")
        share = recorded_share(degraded)
        shares.append(share)
        assert share.max() >= 0.99 or share.sum() < 3  # a rhythm strip survives unless it was lost
    m = measure(degrade(record, np.random.default_rng(0), layout="12x1"))
    assert 65 < m.heart_rate_bpm < 85
    assert any(s.sum() < 6 for s in shares)  # masked, not the full record


def test_onnx_export_equals_python_on_rows_with_nan(tmp_path):
    from classify.train.waveform import WAVEFORM_LABELS, fit_models, predict
    from classify.train.waveform_onnx import check_rows_with_nan, export_waveform
    from classify.waveform import WaveformClassifier

    rng = np.random.default_rng(0)
    n = 400
    X = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    X = np.round(X, 1)  # ties at split values, as rounded measurements give
    X[rng.random(X.shape) < 0.2] = np.nan
    y = np.zeros((n, len(WAVEFORM_LABELS)), dtype=np.float32)
    for k in range(len(WAVEFORM_LABELS)):
        y[:, k] = (np.nan_to_num(X[:, k]) + 0.5 * np.isnan(X[:, k + 1]) + rng.normal(0, 0.5, n)) > 0.3
    y[:5, 0] = np.nan  # ABNORMAL unknown for some records
    models = fit_models(X[:300], y[:300], max_iter=25)
    thresholds = dict.fromkeys(WAVEFORM_LABELS, 0.5)
    per_class = {label: {"auroc": 0.9, "support": 20} for label in WAVEFORM_LABELS}
    per_class["AT"] = {"auroc": 0.9, "support": 3}  # too few positives: must not validate
    export_waveform(models, predict, tmp_path, thresholds=thresholds, metrics={"per_class": per_class},
                    training={"command": "test"}, check_rows=X[300:])
    served = WaveformClassifier(tmp_path)
    rows = check_rows_with_nan(X[300:], seed=3)
    assert np.isnan(rows).any()
    assert np.abs(served.probabilities(rows) - predict(models, rows)).max() < 1e-5
    assert "AT" not in served.validated and "ABNORMAL" in served.validated
    result = served.result(served.probabilities(rows[:1])[0])
    assert set(result.labels) == {k for k, v in result.probabilities.items() if v >= 0.5}


def test_model_with_other_feature_order_is_refused(tmp_path):
    import json

    from classify.manifest import ModelUnavailableError
    from classify.waveform import WaveformClassifier
    from ecg.manifest import ModelEntry, sha256_file, write_entry

    path = tmp_path / "waveform.onnx"
    path.write_bytes(b"not a model")
    write_entry(tmp_path, ModelEntry("waveform", path.name, sha256_file(path), 11, "v", {
        "features": {"feature_version": "waveform-features-0", "feature_names": ["a"]}}, {}))
    with pytest.raises(ModelUnavailableError, match="retrain"):
        WaveformClassifier(tmp_path)
    assert json.loads((tmp_path / "manifest.json").read_text())["models"]["waveform"]["file"] == "waveform.onnx"
