"""The trace U-Net: shapes, ONNX export, a training step that learns, and the runtime's checksum guard."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the optional training dependency (the 'train' extra)")

from digitize.segment import TraceSegmenter  # noqa: E402
from digitize.train.unet import bce_dice_loss  # noqa: E402
from digitize.train.unet_net import export_onnx, trace_unet  # noqa: E402
from ecg.manifest import ModelEntry, ModelIntegrityError, ModelUnavailableError, sha256_file, write_entry  # noqa: E402


def _register(models_dir, path, sha256=None):
    write_entry(
        models_dir,
        ModelEntry(
            name="trace_unet",
            file=path.name,
            sha256=sha256 or sha256_file(path),
            size_bytes=path.stat().st_size,
            version="test",
            inputs={"px_per_mm": 3.5},
            outputs={},
        ),
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = trace_unet().eval()
    folder = tmp_path_factory.mktemp("models")
    path = folder / "trace_unet.onnx"
    export_onnx(model, str(path))
    return model, folder, path


def test_forward_keeps_the_input_size():
    model = trace_unet().eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 3, 64, 96))
    assert out.shape == (2, 1, 64, 96)


def test_onnx_export_matches_torch(exported):
    import onnxruntime as ort

    model, _, path = exported
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 3, 48, 80)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": x})[0]
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) < 1e-4


def test_a_few_training_steps_reduce_the_loss():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: extra threads only contend with the rest of the machine
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images = np.full((8, 3, 48, 48), 0.4, np.float32)
    targets = np.zeros((8, 1, 48, 48), np.float32)
    for i in range(8):  # a dark horizontal line at a random height on light paper with a faint grid
        y = int(rng.integers(8, 40))
        images[i, :, y : y + 2, :] = -0.45
        images[i, 0, :, ::6] = 0.2
        targets[i, 0, y : y + 2, :] = 1.0
    x, t = torch.from_numpy(images), torch.from_numpy(targets)
    model = trace_unet()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = bce_dice_loss(model(x), t)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    torch.set_num_threads(threads)
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


def test_runtime_gives_a_page_sized_probability(exported):
    _, folder, path = exported
    _register(folder, path)
    segmenter = TraceSegmenter(folder, threads=1)
    page = np.full((130, 170, 3), 240, np.uint8)
    prob = segmenter.probability(page, px_per_mm=7.0)
    assert prob.shape == (130, 170)
    assert np.all((prob >= 0) & (prob <= 1))


def test_runtime_refuses_a_file_whose_sha256_differs(exported, tmp_path):
    _, _, path = exported
    copy = tmp_path / "trace_unet.onnx"
    copy.write_bytes(path.read_bytes())
    _register(tmp_path, copy, sha256="0" * 64)
    with pytest.raises(ModelIntegrityError, match="sha256"):
        TraceSegmenter(tmp_path)


def test_runtime_without_a_model_says_how_to_train(tmp_path):
    with pytest.raises(ModelUnavailableError, match="digitize.train.unet"):
        TraceSegmenter(tmp_path)


def test_runtime_and_training_agree_on_the_input_scale():
    from digitize import segment
    from digitize.train import unet_net as unet

    assert segment.WORK_PX_PER_MM == unet.WORK_PX_PER_MM
    assert segment.STRIDE == unet.STRIDE
