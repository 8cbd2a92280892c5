"""A few optimisation steps on tiny data reduce the loss; the training scripts write metrics and resume."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from classify.train.cache import cache_inputs, cache_path  # noqa: E402
from classify.train.nets import beat_detector, fusion_net, tiled_resnet  # noqa: E402
from tests.classify.conftest import draw_ecg_like  # noqa: E402


@pytest.fixture(autouse=True)
def _deterministic():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def _losses(model, step_loss, steps: int, lr: float = 1e-3) -> list[float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    out = []
    for _ in range(steps):
        loss = step_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        out.append(loss.item())
    return out


def test_tiled_resnet_steps_reduce_the_loss():
    model = tiled_resnet().train()
    images = torch.rand(4, 3, 64, 64)
    targets = torch.zeros(4, 10)
    targets[0, 0] = targets[1, 3] = targets[2, 5] = targets[3, 0] = 1.0
    losses = _losses(model, lambda: torch.nn.functional.binary_cross_entropy_with_logits(model(images), targets), 4)
    assert losses[-1] < losses[0]


def test_fusion_net_steps_reduce_the_loss():
    model = fusion_net().train()
    image, beats = torch.rand(2, 3, 64, 64), torch.rand(2, 4, 3, 32, 32)
    mask, labels = torch.tensor([[1.0, 1, 1, 0], [1, 1, 0, 0]]), torch.tensor([0.0, 1.0])
    losses = _losses(
        model, lambda: torch.nn.functional.binary_cross_entropy_with_logits(model(image, beats, mask), labels), 4
    )
    assert losses[-1] < losses[0]


def test_beat_detector_steps_reduce_the_loss(ecg_image):
    import cv2

    image, boxes = ecg_image
    size = (192, 256)
    canvas = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    scale = np.array([size[1] / image.shape[1], size[0] / image.shape[0]] * 2, dtype=np.float32)
    model = beat_detector(image_size=size).train()
    x = [torch.from_numpy(canvas.transpose(2, 0, 1).astype(np.float32) / 255.0)]
    target = [{"boxes": torch.from_numpy(boxes * scale), "labels": torch.ones(len(boxes), dtype=torch.int64)}]
    losses = _losses(model, lambda: sum(model(x, target).values()), 5)
    assert min(losses[-2:]) < losses[0]


def _tiny_dataset(root) -> pd.DataFrame:
    rows = []
    (root / "images").mkdir(parents=True)
    for i in range(6):
        image, boxes = draw_ecg_like(300, 600, beats=4 + i % 3, seed=i)
        if i % 2:
            image[:, :, 1:] //= 2  # a visible difference between the two "classes"
        name = f"images/{i:05d}_0.jpg"
        arrays = cache_inputs(image, boxes, seed=i)
        path = cache_path(root / "cache", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)
        rows.append(
            {
                "image": name,
                "beats": "",
                "ecg_id": i,
                "patient_id": i,
                "fold": 1,
                "split": "val" if i >= 4 else "train",
                "tiled_labels": "AFIB" if i % 2 else "NORM",
                "fusion_label": i % 2,
                "seed": i,
                "synthetic": 0,
            }
        )
    manifest = pd.DataFrame(rows)
    manifest.to_csv(root / "manifest.csv", index=False)
    return manifest


def test_train_tiled_writes_thresholds_and_metrics_and_resumes(tmp_path):
    from classify.train import tiled as train_tiled

    _tiny_dataset(tmp_path / "data")
    out = tmp_path / "run"
    args = [
        "--manifest",
        str(tmp_path / "data" / "manifest.csv"),
        "--out",
        str(out),
        "--batch-size",
        "2",
        "--threads",
        "1",
        "--checkpoint-every",
        "1",
        "--epochs",
        "1",
        "--time-budget-min",
        "5",
    ]
    first = train_tiled.main(args)
    assert (out / "model.pt").exists() and (out / "checkpoint.pt").exists()
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["epochs"] == 1 and set(saved["per_class"]) >= {"NORM", "AFIB", "AESC"}
    assert saved["per_class"]["AESC"]["threshold"] == 1.0  # untrained class never fires
    second = train_tiled.main([*args[:-4], "--epochs", "2", "--time-budget-min", "5", "--resume"])
    assert second["epochs"] == 2 and second["steps"] > first["steps"]
    assert len(second["history"]) == 2


def test_init_from_loads_an_earlier_runs_weights(tmp_path):
    """``--init-from`` starts from another run's ``model.pt``: before any step the weights equal the saved ones."""
    import logging

    import torch

    from classify.train.harness import init_weights
    from classify.train.nets import tiled_resnet

    trained = tiled_resnet()
    torch.save({"state_dict": trained.state_dict(), "config": {}}, tmp_path / "model.pt")
    torch.save(trained.state_dict(), tmp_path / "best.pt")
    for path in (tmp_path / "model.pt", tmp_path / "best.pt"):
        fresh = tiled_resnet()
        assert not torch.equal(fresh.backbone.fc.weight, trained.backbone.fc.weight)
        init_weights(fresh, path, logging.getLogger("test"))
        pairs = zip(fresh.state_dict().values(), trained.state_dict().values(), strict=True)
        assert all(torch.equal(a, b) for a, b in pairs)


def test_init_from_a_fusion_run_transfers_its_beat_encoder_into_the_tiled_resnet(tmp_path):
    """The fusion net's ResNet-18 beat encoder (``local.body.*``) seeds the tiled ResNet's backbone; the 10-class head,
    which has no counterpart, stays random; a network with nothing in common is refused."""
    import logging

    import pytest
    import torch

    from classify.train.harness import init_weights
    from classify.train.nets import fusion_net, tiled_resnet

    fusion = fusion_net()
    torch.save({"state_dict": fusion.state_dict()}, tmp_path / "fusion.pt")
    tiled = tiled_resnet()
    head_before = tiled.backbone.fc.weight.clone()
    init_weights(tiled, tmp_path / "fusion.pt", logging.getLogger("test"))
    assert torch.equal(tiled.backbone.conv1.weight, fusion.local.body.conv1.weight)
    assert torch.equal(tiled.backbone.bn1.running_var, fusion.local.body.bn1.running_var)
    assert torch.equal(tiled.backbone.layer4[1].conv2.weight, fusion.local.body.layer4[1].conv2.weight)
    assert torch.equal(tiled.backbone.fc.weight, head_before)

    torch.save({"state_dict": {"other.weight": torch.zeros(3, 3)}}, tmp_path / "unrelated.pt")
    with pytest.raises(ValueError, match="no tensor"):
        init_weights(tiled_resnet(), tmp_path / "unrelated.pt", logging.getLogger("test"))
