"""Fixtures of the bad-input corpus: each case's file built once per session, stand-in models, one API client."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "api"))
from api_testkit import KEY  # noqa: E402
from cases import Case  # noqa: E402


def _root_conftest():
    spec = importlib.util.spec_from_file_location("_badinputs_root_conftest", HERE.parent / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def standin_models(tmp_path_factory) -> Path:
    """The stand-in ONNX classifiers (real runtime, real input/output contract), written once."""
    return _root_conftest().make_fake_models(tmp_path_factory.mktemp("badinputs-models"))


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Callable[[Case], Path]:
    """``built(case)`` → the case's input file, made on first use and shared by the CLI and API tests."""
    cache: dict[str, Path] = {}

    def build(case: Case) -> Path:
        if case.id not in cache:
            cache[case.id] = case.build(tmp_path_factory.mktemp(f"in-{case.id}"))
        return cache[case.id]

    return build


@pytest.fixture(scope="session")
def api(tmp_path_factory, standin_models) -> Iterator:
    """A TestClient on the real app and the real pipeline with the stand-in models; one worker."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.core.config import Settings
    from report.pipeline import Pipeline

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("badinputs-api") / "data",
        api_keys=[KEY],
        workers=1,
        queue_size=4,
        wait_timeout_s=120,
    )
    pipeline = Pipeline(standin_models)
    assert pipeline.classifier is not None, pipeline.classifier_error
    with TestClient(create_app(settings, pipeline_factory=lambda s: pipeline)) as client:
        yield client
