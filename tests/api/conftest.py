"""Fixtures for the service tests: settings on a temp data dir, stand-in pipelines, TestClient factories and small
inputs (an EDF record written from a bundled sample, the bundled photo)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.core.config import Settings
from ecg.io import read_record, write_record
from report.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_testkit import KEY, PHOTO, SAMPLES, ecgscreen_command, free_port, running_server  # noqa: E402
from standin_app import standin_pipeline  # noqa: E402  (shared with the uvicorn subprocess)


def fake_pipeline(settings: Settings | None = None) -> Pipeline:
    """The real pipeline with the stand-in classifier (the ONNX models may not be trained yet)."""
    return standin_pipeline(slow=False)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", api_keys=[KEY], workers=1, queue_size=4, wait_timeout_s=60)


@pytest.fixture
def make_client(settings) -> Iterator[Callable[..., TestClient]]:
    """``make_client(pipeline=None, **setting_overrides)`` → a started TestClient (closed after the test)."""
    clients: list[TestClient] = []

    def make(pipeline=None, **overrides) -> TestClient:
        merged = settings.model_copy(update=overrides)
        factory = (lambda s: pipeline) if pipeline is not None else fake_pipeline
        client = TestClient(create_app(merged, pipeline_factory=factory))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture(scope="session")
def edf_bytes(tmp_path_factory) -> bytes:
    """A 10 s 12-lead EDF+ file made from a bundled PTB-XL record."""
    path = tmp_path_factory.mktemp("rec") / "rec.edf"
    write_record(read_record(SAMPLES / "ptbxl-00001.hea"), path)
    return path.read_bytes()


@pytest.fixture(scope="session")
def photo_bytes() -> bytes:
    return PHOTO.read_bytes()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """``ecgscreen serve`` (the Docker entry command, real pipeline) on a random loopback port; its base URL."""
    port = free_port()
    env = {"ECGSCREEN_DATA_DIR": str(tmp_path_factory.mktemp("live") / "data"), "ECGSCREEN_API_KEYS": KEY}
    with running_server([*ecgscreen_command(), "serve", "--host", "127.0.0.1", "--port", str(port)], env, port):
        yield f"http://127.0.0.1:{port}"
