"""Shared by the bench tests: load a script of ``bench/`` as a module (the scripts are not an installed package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    """``bench/<name>.py`` as module ``name`` (registered in ``sys.modules``: dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_bench():
    """The loader: ``load_bench("measure_digitized")`` → ``bench/measure_digitized.py`` as a module."""
    return _load
