"""Shared fixtures: paths to the bundled samples and to ../shared/data (tests using it skip when it is absent), and
stand-in ONNX classifier models with the real input/output contract (`fake_models`).

The stand-in models are built with ``onnx.helper`` (no torch): they have exactly the input and output names and
shapes of the exported networks, and outputs that depend on the pixels, so that the runtime, the CLI, the report
pipeline and the occlusion saliency can be tested quickly without training anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classify.fusion_inputs import BEAT_CROP_SIZE, DETECTOR_SIZE, GLOBAL_SIZE, MAX_BEATS
from classify.labels import FUSION_CLASSES, TILED_CLASSES
from classify.manifest import ModelEntry, sha256_file, write_entry
from classify.tiling import TILE_SIZE

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the repository; skips the test when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared data folder {SHARED_DATA} (not present on this machine)")
    return SHARED_DATA


@pytest.fixture
def sample_record_path() -> Path:
    """A bundled 10 s 12-lead PTB-XL record (normal ECG), WFDB format."""
    return SAMPLES / "ptbxl-00001.hea"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# --- stand-in classifier models ---------------------------------------------------------------------------
def _tensor(name: str, shape: list) -> object:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _save(graph, path: Path) -> None:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def fake_tiled(path: Path) -> None:
    """tiles (N, 3, 224, 224) → sigmoid(mean per channel @ W) (N, 10)."""
    from onnx import helper, numpy_helper

    weights = np.linspace(-8, 8, 3 * len(TILED_CLASSES), dtype=np.float32).reshape(3, len(TILED_CLASSES))
    nodes = [
        helper.make_node("ReduceMean", ["tiles"], ["means"], axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["means", "W"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["probabilities"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiled",
        [_tensor("tiles", ["N", 3, TILE_SIZE, TILE_SIZE])],
        [_tensor("probabilities", ["N", len(TILED_CLASSES)])],
        [numpy_helper.from_array(weights, "W")],
    )
    _save(graph, path)


def fake_detector(path: Path, boxes: np.ndarray) -> None:
    """canvas (1, 3, H, W) → the given boxes (canvas px) with scores 0.9 − 0.01 k (+ 0 × mean pixel)."""
    from onnx import helper, numpy_helper

    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    scores = (0.9 - 0.01 * np.arange(len(boxes))).astype(np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["canvas"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["B", "nothing"], ["boxes"]),
        helper.make_node("Add", ["S", "nothing"], ["scores"]),
    ]
    inits = [
        numpy_helper.from_array(boxes, "B"),
        numpy_helper.from_array(scores, "S"),
        numpy_helper.from_array(np.zeros((), np.float32), "zero"),
    ]
    graph = helper.make_graph(
        nodes,
        "detector",
        [_tensor("canvas", [1, 3, *DETECTOR_SIZE])],
        [_tensor("boxes", ["D", 4]), _tensor("scores", ["D"])],
        inits,
    )
    _save(graph, path)


def fake_fusion(path: Path) -> None:
    """(image, beats, beat_mask) → sigmoid(10 × (0.8 − mean image) + 0.05 × beats counted)."""
    from onnx import helper, numpy_helper

    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Sub", ["c08", "mean"], ["dark"]),
        helper.make_node("Mul", ["dark", "c10"], ["a"]),
        helper.make_node("ReduceSum", ["beat_mask", "axis1"], ["count"], keepdims=0),
        helper.make_node("ReduceMean", ["beats"], ["beats_mean"], axes=[1, 2, 3, 4], keepdims=0),
        helper.make_node("Mul", ["beats_mean", "c0"], ["b0"]),
        helper.make_node("Mul", ["count", "c005"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["ab"]),
        helper.make_node("Add", ["ab", "b0"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["abnormal_probability"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(v, np.float32), n)
        for n, v in (("c08", 0.8), ("c10", 10.0), ("c005", 0.05), ("c0", 0.0))
    ]
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "axis1"))
    graph = helper.make_graph(
        nodes,
        "fusion",
        [
            _tensor("image", ["N", 3, *GLOBAL_SIZE]),
            _tensor("beats", ["N", MAX_BEATS, 3, BEAT_CROP_SIZE, BEAT_CROP_SIZE]),
            _tensor("beat_mask", ["N", MAX_BEATS]),
        ],
        [_tensor("abnormal_probability", ["N"])],
        inits,
    )
    _save(graph, path)


def register(models_dir: Path, name: str, **fields) -> None:
    path = models_dir / f"{name}.onnx"
    write_entry(
        models_dir,
        ModelEntry(
            name=name,
            file=path.name,
            sha256=sha256_file(path),
            size_bytes=path.stat().st_size,
            version=f"{name}-test",
            inputs={},
            outputs={},
            **fields,
        ),
    )


def make_fake_models(models_dir: Path, detector_boxes: np.ndarray | None = None) -> Path:
    """Write the three stand-in models and their manifest into ``models_dir``."""
    pytest.importorskip("onnx")
    models_dir.mkdir(parents=True, exist_ok=True)
    if detector_boxes is None:
        detector_boxes = np.array([[50 + 40 * k, 100, 85 + 40 * k, 150] for k in range(6)], dtype=np.float32)
    fake_tiled(models_dir / "tiled.onnx")
    fake_detector(models_dir / "detector.onnx", detector_boxes)
    fake_fusion(models_dir / "fusion.onnx")
    register(models_dir, "tiled", classes=list(TILED_CLASSES), thresholds={c: 0.5 for c in TILED_CLASSES})
    register(models_dir, "detector", classes=["beat"], thresholds={"score": 0.5})
    register(models_dir, "fusion", classes=list(FUSION_CLASSES), thresholds={"abnormal": 0.5})
    return models_dir


@pytest.fixture
def fake_models(tmp_path: Path) -> Path:
    return make_fake_models(tmp_path / "models")
