"""The one model loader: manifest check, provider policy (faked providers and GPU probe), session cache, errors."""

from __future__ import annotations

import pytest

from ecg import models
from ecg.errors import EcgInputError, ModelError
from ecg.manifest import ModelIntegrityError, ModelUnavailableError, resolve_models_dir
from tests.conftest import make_fake_models

ort = pytest.importorskip("onnxruntime")


@pytest.fixture
def offered(monkeypatch):
    """Pretend onnxruntime offers CUDA; the test says whether a GPU is present."""
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.delenv("ECGSCREEN_DEVICE", raising=False)
    return monkeypatch


def test_cuda_only_when_offered_and_a_gpu_is_present(offered):
    offered.setattr(models, "gpu_present", lambda: True)
    assert models.select_providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    offered.setattr(models, "gpu_present", lambda: False)
    assert models.select_providers() == ["CPUExecutionProvider"]


def test_ecgscreen_device_cpu_wins_over_a_gpu(offered):
    offered.setattr(models, "gpu_present", lambda: True)
    offered.setenv("ECGSCREEN_DEVICE", "CPU")
    assert models.select_providers() == ["CPUExecutionProvider"]


def test_cpu_when_onnxruntime_offers_no_cuda(monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    monkeypatch.setattr(models, "gpu_present", lambda: True)
    monkeypatch.delenv("ECGSCREEN_DEVICE", raising=False)
    assert models.select_providers() == ["CPUExecutionProvider"]


def test_open_model_caches_and_reports_the_providers_it_really_got(tmp_path, monkeypatch):
    folder = make_fake_models(tmp_path / "m")
    monkeypatch.setattr(models, "select_providers", lambda: ["CPUExecutionProvider"])
    first = models.open_model("tiled", folder, threads=1)
    assert models.open_model("tiled", folder, threads=1) is first
    assert first.providers == ("CPUExecutionProvider",)
    assert first.entry.name == "tiled" and first.path == folder / "tiled.onnx"


def test_a_replaced_file_is_verified_again(tmp_path):
    folder = make_fake_models(tmp_path / "m")
    models.open_model("fusion", folder, threads=1)
    path = folder / "fusion.onnx"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        models.open_model("fusion", folder, threads=1)


def test_model_faults_are_not_input_errors(tmp_path):
    with pytest.raises(ModelUnavailableError, match="missing") as missing:
        models.open_model("tiled", tmp_path)
    assert isinstance(missing.value, ModelError) and not isinstance(missing.value, EcgInputError)
    folder = make_fake_models(tmp_path / "m")
    (folder / "detector.onnx").write_bytes(b"not an onnx graph")
    from dataclasses import replace

    from ecg.manifest import read_manifest, sha256_file, write_entry

    entry = read_manifest(folder)["detector"]
    write_entry(folder, replace(entry, sha256=sha256_file(folder / "detector.onnx")))
    with pytest.raises(models.ModelLoadError, match="cannot be opened"):
        models.open_model("detector", folder)


def test_the_models_folder_comes_from_one_place(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGSCREEN_MODELS_DIR", str(tmp_path))
    assert resolve_models_dir() == tmp_path
    assert resolve_models_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("ECGSCREEN_MODELS_DIR")
    assert resolve_models_dir().name == "models"
