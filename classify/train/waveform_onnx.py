"""Export the waveform classifier's per-label gradient-boosted trees as one ONNX graph and write its manifest entry.

Graph: input ``features`` float32 ``(batch, len(FEATURE_NAMES))`` (NaN = missing) → one skl2onnx
``TreeEnsembleClassifier`` per label → the positive-class column of each → ``probabilities`` float32
``(batch, labels)``. Split thresholds are first moved to float32 (:func:`float32_thresholds`). The export is
refused unless onnxruntime's output equals the Python model's (max |Δ| < 1e-5) on the given rows and on the same
rows with 30 % of their values set to NaN.

skl2onnx 1.20 passes the ``missing_go_to_left`` flags of HistGradientBoosting trees to ONNX as booleans, which
onnx ≥ 1.17 refuses ("Expected an int, got a boolean"); :func:`_int_missing_flags` makes them 0/1 during the
conversion (the values are the same, only their Python type changes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import numpy as np

from classify.features import FEATURE_NAMES, FEATURE_VERSION

OPSET = {"": 17, "ai.onnx.ml": 3}
MAX_ABS_DIFF = 1e-5


@contextlib.contextmanager
def _int_missing_flags() -> Iterator[None]:
    import skl2onnx.common.tree_ensemble as tree_ensemble

    original = tree_ensemble.add_node

    def add_node(*args, nodes_missing_value_tracks_true=0, **kwargs):  # type: ignore[no-untyped-def]
        return original(*args, nodes_missing_value_tracks_true=int(bool(nodes_missing_value_tracks_true)), **kwargs)

    tree_ensemble.add_node = add_node
    try:
        yield
    finally:
        tree_ensemble.add_node = original


def float32_thresholds(model) -> None:  # type: ignore[no-untyped-def]
    """Move every split threshold of a fitted HistGradientBoosting model down to the largest float32 ≤ it, in place.

    ONNX stores thresholds as float32. HistGradientBoosting splits halfway between two training values; in float32
    that midpoint can round *up* onto the upper value, so an input equal to it (measurements are rounded to 0.1, so
    ties are common) would go left in onnxruntime and right in scikit-learn. No float32 input lies between the
    float32 floor and the float64 threshold, so this changes no prediction on float32 features.
    """
    for stage in model._predictors:
        for predictor in stage:
            nodes = predictor.nodes
            thresholds = nodes["num_threshold"]
            floor = thresholds.astype(np.float32)
            over = floor.astype(np.float64) > thresholds
            floor[over] = np.nextafter(floor[over], np.float32(-np.inf))
            nodes["num_threshold"] = floor.astype(np.float64)


def to_onnx_graph(models: list, n_features: int):  # type: ignore[no-untyped-def]
    """One ``onnx.ModelProto`` computing every model's positive-class probability, in model order."""
    import onnx
    from onnx import TensorProto, helper
    from skl2onnx import to_onnx

    sample = np.zeros((1, n_features), dtype=np.float32)
    nodes, initializers, opsets = [], [], {}
    columns = []
    index_one = helper.make_tensor("col_one", TensorProto.INT64, [1], [1])
    initializers.append(index_one)
    for k, model in enumerate(models):
        float32_thresholds(model)
        with _int_missing_flags():
            part = to_onnx(model, sample, options={id(model): {"zipmap": False}}, target_opset=OPSET)
        part = onnx.compose.add_prefix(part, f"m{k}_")
        graph = part.graph
        source = graph.input[0].name
        for node in graph.node:
            node.input[:] = ["features" if name == source else name for name in node.input]
            nodes.append(node)
        initializers += list(graph.initializer)
        for opset in part.opset_import:
            opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
        probabilities = next(o.name for o in graph.output if o.name.endswith("probabilities"))
        column = f"p{k}"
        nodes.append(helper.make_node("Gather", [probabilities, "col_one"], [column], axis=1))
        columns.append(column)
    nodes.append(helper.make_node("Concat", columns, ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes, "waveform_features_gbt",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", n_features])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", len(models)])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def check_rows_with_nan(rows: np.ndarray, seed: int = 0) -> np.ndarray:
    """``rows`` stacked on a copy with 30 % of the values NaN (the export check's inputs)."""
    rng = np.random.default_rng(seed)
    holes = rows.copy()
    holes[rng.random(holes.shape) < 0.3] = np.nan
    return np.vstack([rows, holes]).astype(np.float32)


def export_waveform(
    models: list,
    predict: Callable[[list, np.ndarray], np.ndarray],
    models_dir: Path,
    *,
    thresholds: dict[str, float],
    metrics: dict,
    training: dict,
    check_rows: np.ndarray,
):  # type: ignore[no-untyped-def]
    """Write ``<models_dir>/waveform.onnx`` and its manifest entry after checking onnxruntime against Python."""
    import onnxruntime as ort

    from classify.manifest import ModelEntry, sha256_file, write_entry
    from classify.train.waveform import WAVEFORM_LABELS

    model = to_onnx_graph(models, len(FEATURE_NAMES))
    rows = check_rows_with_nan(check_rows)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    served = session.run(None, {"features": rows})[0]
    diff = float(np.abs(served - predict(models, rows)).max())
    if not diff < MAX_ABS_DIFF:
        raise RuntimeError(f"onnxruntime differs from the Python model by {diff:.2e} (limit {MAX_ABS_DIFF})")
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / "waveform.onnx"
    path.write_bytes(model.SerializeToString())
    digest = sha256_file(path)
    import onnxruntime
    import sklearn

    entry = ModelEntry(
        name="waveform", file=path.name, sha256=digest, size_bytes=path.stat().st_size,
        version=f"waveform-{date.today().isoformat()}-{digest[:8]}",
        inputs={"features": {"shape": ["batch", len(FEATURE_NAMES)], "dtype": "float32", "missing": "NaN",
                             "feature_version": FEATURE_VERSION, "feature_names": list(FEATURE_NAMES),
                             "preprocess": "classify.features.record_features"}},
        outputs={"probabilities": {"shape": ["batch", len(WAVEFORM_LABELS)], "classes": list(WAVEFORM_LABELS)}},
        classes=list(WAVEFORM_LABELS), thresholds=thresholds, training=training, metrics=metrics,
        export={"opset": OPSET, "sklearn": sklearn.__version__, "onnxruntime": onnxruntime.__version__,
                "check": {"rows": int(len(rows)), "nan_share": 0.15, "max_abs_diff": diff},
                "date": date.today().isoformat()},
    )
    write_entry(models_dir, entry)
    return entry


__all__ = ["check_rows_with_nan", "export_waveform", "float32_thresholds", "to_onnx_graph"]
