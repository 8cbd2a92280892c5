"""Quarter-turn orientation: DataSynth renders turned by a known angle are put upright, and the notes say so."""

from __future__ import annotations

import numpy as np
import pytest

from digitize.metrics import record_scores, record_snr
from digitize.orient import detect_orientation, upright
from ecg.record import LEADS


@pytest.fixture(scope="module")
def rendered():
    synth = pytest.importorskip("synth")
    from synth.demo import synthetic_record

    return synth.synthesize(
        synthetic_record(), 3, "none", layout="3x4+1", paper="red", dpi=150, speed_mm_s=25.0, gain_mm_mv=10.0
    )


@pytest.mark.parametrize("turn", [0, 1, 2, 3])
def test_turned_render_is_put_upright(rendered, turn):
    image = rendered.image[:, :, ::-1]
    turned = np.ascontiguousarray(np.rot90(image, turn))
    found = detect_orientation(turned)
    assert (found.quarter_turns + turn) % 4 == 0, found.note
    assert found.confident
    assert np.array_equal(upright(turned, found), image)
    if turn:
        assert "rotated by" in found.note and "corrected" in found.note


def test_blank_page_is_left_as_found_and_not_confident():
    page = np.full((600, 800, 3), 250, np.uint8)
    found = detect_orientation(page)
    assert found.quarter_turns == 0 and not found.confident


def test_upside_down_scan_is_digitized_with_a_note(rendered):
    from digitize.pipeline import digitize_image

    turned = np.ascontiguousarray(np.rot90(rendered.image[:, :, ::-1], 2))
    result = digitize_image(turned)
    assert any("rotated by 180" in note and "corrected" in note for note in result.quality_notes)
    snr = record_snr(record_scores(rendered.truth.plotted.signals, result.record.signals, 500.0, LEADS))
    assert snr > 6.0


# --- the orientation network (models/orient.onnx) and its fallback -------------------------------------------------


@pytest.mark.parametrize("turn", [0, 1, 2, 3])
def test_shipped_model_puts_a_turned_render_upright(rendered, turn):
    from digitize.orient import orientation_model

    assert orientation_model() is not None, "models/orient.onnx is missing or fails its sha256 check"
    image = rendered.image[:, :, ::-1]
    found = detect_orientation(np.ascontiguousarray(np.rot90(image, turn)))
    assert (found.quarter_turns + turn) % 4 == 0, found.note
    assert found.confident and "orientation model p=" in found.note, found.note


def test_heuristic_is_used_without_the_model(rendered, tmp_path):
    from digitize.orient import heuristic_orientation, orientation_model

    assert orientation_model(tmp_path) is None
    turned = np.ascontiguousarray(np.rot90(rendered.image[:, :, ::-1], 2))
    found = detect_orientation(turned, models_dir=tmp_path)
    assert found == heuristic_orientation(turned)
    assert "orientation model" not in found.note
    assert (found.quarter_turns + 2) % 4 == 0, found.note


def _asymmetric_pages(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Tiny landscape 'pages' (grey uint8, 40×64 in a 64×64 store) with a dark block at the top left."""
    images = np.zeros((n, 64, 64), np.uint8)
    for i in range(n):
        page = rng.integers(200, 256, (40, 64)).astype(np.uint8)
        page[3:12, 3:22] = rng.integers(0, 60)
        page[30:33, 10:60] = 80
        images[i, :40] = page
    return images, np.tile(np.array([[40, 64]], np.int32), (n, 1))


def test_a_few_training_steps_reduce_the_loss():
    torch = pytest.importorskip("torch", reason="torch is the optional training dependency (the 'train' extra)")
    from torch.nn import functional as F

    from digitize.train.orient import OrientNet, make_batch, train_step

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images, shapes = _asymmetric_pages(6, rng)
    model = OrientNet(widths=(8, 16, 16), dropout=0.0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    x_fixed, y_fixed = make_batch(images, shapes, 6, np.random.default_rng(1), side=64, train=False)

    def loss() -> float:
        model.train()
        with torch.no_grad():
            return float(F.cross_entropy(model(x_fixed), y_fixed))

    before = loss()
    for _ in range(25):
        train_step(model, optimiser, *make_batch(images, shapes, 4, rng, side=64))
    assert loss() < 0.7 * before


def test_exported_model_is_served_from_its_folder(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is the optional training dependency (the 'train' extra)")

    from digitize.orient import OrientationModel, orientation_model
    from digitize.train.orient import OrientNet, export_onnx
    from ecg.manifest import ModelEntry, sha256_file, write_entry

    torch.manual_seed(0)
    path = tmp_path / "orient.onnx"
    assert export_onnx(OrientNet(widths=(8, 16, 16)), path, side=64) <= 1e-4
    record = ModelEntry(
        name="orient",
        file=path.name,
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        version="test",
        inputs={"image": {"shape": ["batch", 1, 64, 64]}},
        outputs={},
        thresholds={"confident": 0.9},
    )
    write_entry(tmp_path, record)
    model = OrientationModel(tmp_path)
    p = model.probabilities(np.full((90, 120, 3), 200, np.uint8))
    assert p.shape == (4,) and abs(p.sum() - 1.0) < 1e-6 and model.threshold == 0.9
    path.write_bytes(path.read_bytes() + b"\0")  # tampered: refused, so the heuristic decides
    with pytest.warns(RuntimeWarning, match="refused"):
        assert orientation_model(tmp_path) is None


def test_training_script_runs_resumes_and_exports(tmp_path):
    """The whole script on 6 tiny pages: a few seconds of training, a checkpoint, a resumed run, an ONNX file whose
    manifest entry verifies. Proves the loop, not the model."""
    pytest.importorskip("torch", reason="torch is the optional training dependency (the 'train' extra)")
    import cv2

    from digitize.orient import OrientationModel
    from digitize.train.orient import main

    rng = np.random.default_rng(0)
    rows = ["image,split"]
    for i in range(6):
        page = np.full((120, 180, 3), 245, np.uint8)
        page[10:30, 10:50] = rng.integers(0, 80)  # a dark block at the top left: the page's "up"
        cv2.imwrite(str(tmp_path / f"p{i}.png"), page)
        rows.append(f"p{i}.png,{'train' if i < 4 else 'val'}")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    run, models = tmp_path / "run", tmp_path / "models"
    common = [str(run), "--manifest", str(manifest), "--cache", str(tmp_path / "cache"), "--images-per-batch", "2"]
    assert main([*common, "--time-budget-min", "0.05", "--no-export"]) == 0
    assert (run / "last.ckpt").exists() and "step" in (run / "train.log").read_text()
    assert main([*common, "--time-budget-min", "0.1", "--resume", "--models-dir", str(models)]) == 0
    assert "resum" in (run / "train.log").read_text().lower()
    model = OrientationModel(models)  # verifies the sha256 written to the manifest
    p = model.probabilities(np.full((120, 180, 3), 200, np.uint8))
    assert p.shape == (4,) and abs(p.sum() - 1.0) < 1e-6
