"""ONNX export: exported graphs give the torch outputs; the detector works with 0, 1 and many beats."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from classify.train.export import TOLERANCE, export_detector, export_fusion, export_tiled  # noqa: E402
from classify.train.export_checks import store_weights_fp16  # noqa: E402
from classify.train.nets import beat_detector, fusion_net, tiled_resnet  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def test_tiled_onnx_matches_torch_with_fp16_weight_storage(tmp_path):
    path = tmp_path / "tiled.onnx"
    model = tiled_resnet().eval()
    check = export_tiled(model, path, weights="float16")
    assert check["max_abs_diff"] <= TOLERANCE
    float32_bytes = 4 * sum(p.numel() for p in model.parameters())
    assert path.stat().st_size < 0.6 * float32_bytes  # float16 storage: about half


def test_fusion_onnx_matches_torch_with_no_one_and_all_beats(tmp_path):
    check = export_fusion(fusion_net().eval(), tmp_path / "fusion.onnx", weights="float32")
    assert check["max_abs_diff"] <= TOLERANCE


def _detector(detections: int, *, silent: bool = False):
    """A random detector with distinct box scores (backbone batch-norm variances lowered so that RoI features
    differ), capped at ``detections``; ``silent`` pushes every beat score to ~0 (no detection)."""
    model = beat_detector().eval()
    for module in model.backbone.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_var.fill_(0.1)
    predictor = model.roi_heads.box_predictor
    with torch.no_grad():
        if silent:
            predictor.cls_score.weight.zero_()
            predictor.cls_score.bias.copy_(torch.tensor([0.0, -20.0]))
        else:
            predictor.cls_score.bias.zero_()
    model.roi_heads.detections_per_img = detections
    return model


@pytest.mark.parametrize(
    ("detections", "silent", "expected"), [(160, True, "none"), (1, False, "one"), (160, False, "many")]
)
def test_detector_export_with_zero_one_and_many_beats(tmp_path, detections, silent, expected):
    check = export_detector(_detector(detections, silent=silent), tmp_path / "detector.onnx", weights="float32")
    assert check["max_abs_diff"] <= TOLERANCE
    for torch_count, onnx_count in check["detections"].values():
        assert torch_count == onnx_count
        if expected == "none":
            assert onnx_count == 0
        elif expected == "one":
            assert onnx_count == 1
        else:
            assert onnx_count > 1


def test_fp16_storage_keeps_small_tensors_and_halves_big_ones(tmp_path):
    import onnx

    path = tmp_path / "tiled.onnx"
    export_tiled(tiled_resnet().eval(), path, weights="float32")
    before = path.stat().st_size
    converted = store_weights_fp16(path)
    model = onnx.load(str(path))
    assert converted > 10 and path.stat().st_size < 0.6 * before
    assert sum(node.op_type == "Cast" for node in model.graph.node) >= converted


def test_beat_encoder_weights_are_recovered_from_the_fusion_onnx(tmp_path):
    """A new run can start from a shipped fusion.onnx: the folded conv+BN weights of its beat encoder are read back
    into a ResNet-18 that computes the same features (float16 storage, DenseNet convs skipped)."""
    from torchvision.models import resnet18

    from classify.train.onnx_weights import resnet_state_from_onnx

    torch.manual_seed(1)
    model = fusion_net()
    for module in model.local.body.modules():  # trained-looking BatchNorm statistics, so folding matters
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    export_fusion(model, tmp_path / "fusion.onnx", weights="float16")
    recovered = resnet18(weights=None)
    recovered.fc = torch.nn.Identity()
    recovered.load_state_dict(resnet_state_from_onnx(tmp_path / "fusion.onnx", recovered), strict=False)
    recovered.eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        expected = model.local.body(x)
        got = recovered(x)
    assert torch.allclose(got, expected, atol=2e-2 * float(expected.abs().max()))
    assert not torch.allclose(resnet18(weights=None).eval().conv1.weight, recovered.conv1.weight)
